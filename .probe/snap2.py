import json,sys,collections
d=json.load(open(sys.argv[1]))
m=d['snapshot']['meta']; nf=m['node_fields']; types=m['node_types'][0]; ef=m['edge_fields']; etypes=m['edge_types'][0]
N=len(nf); E=len(ef); nodes=d['nodes']; edges=d['edges']; strings=d['strings']
ti=nf.index('type'); ni=nf.index('name'); si=nf.index('self_size'); eci=nf.index('edge_count')
eti=ef.index('type'); eni=ef.index('name_or_index'); eto=ef.index('to_node')
nn=len(nodes)//N
parent=[-1]*nn; pedge=['']*nn
e=0
for i in range(nn):
    c=nodes[i*N+eci]
    for j in range(c):
        to=edges[e+eto]//N; t=etypes[edges[e+eti]]
        if parent[to]==-1 and t not in ('weak',):
            parent[to]=i; pedge[to]= strings[edges[e+eni]] if t in ('property','internal','context','shortcut') else f'[{t}]'
        e+=E
def label(i): return f"{types[nodes[i*N+ti]]}:{strings[nodes[i*N+ni]][:50]}"
# walk up from Arrays 4 levels and aggregate chains
agg=collections.Counter(); size=collections.Counter()
for i in range(nn):
    t=types[nodes[i*N+ti]]; name=strings[nodes[i*N+ni]]
    if (t=='object' and name in ('Array','Object')) or t=='array':
        chain=[]; p=i
        for _ in range(6):
            q=parent[p]
            if q<0: break
            chain.append(pedge[p]+'<'+label(q)); p=q
        key=' | '.join(chain[1:6])
        agg[key]+=1; size[key]+=nodes[i*N+si]
for k,v in size.most_common(15): print(f"{v/2**20:6.1f} MiB {agg[k]:7d}  {k[:400]}")
print('--- BrokerPool owners')
for i in range(nn):
    if types[nodes[i*N+ti]]=='object' and strings[nodes[i*N+ni]]=='BrokerPool':
        chain=[]; p=i
        for _ in range(14):
            q=parent[p]
            if q<0: break
            chain.append(pedge[p]+'<'+label(q)); p=q
        print(' | '.join(chain))
