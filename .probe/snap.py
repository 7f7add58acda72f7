import json,sys,collections
d=json.load(open(sys.argv[1]))
m=d['snapshot']['meta']; nf=m['node_fields']; types=m['node_types'][0]
N=len(nf); nodes=d['nodes']; strings=d['strings']
ti=nf.index('type'); ni=nf.index('name'); si=nf.index('self_size')
agg=collections.Counter(); cnt=collections.Counter(); big=[]
for i in range(0,len(nodes),N):
    t=types[nodes[i+ti]]; name=strings[nodes[i+ni]]; s=nodes[i+si]
    key=(t, name if t in ('object','closure','native','hidden','code') else '')
    agg[key]+=s; cnt[key]+=1
    if s>1_000_000: big.append((s,t,name[:80]))
tot=sum(agg.values())
print('total MiB', tot/2**20)
for k,v in agg.most_common(25): print(f"{v/2**20:8.1f} MiB {cnt[k]:8d} {k}")
print('big nodes:')
for b in sorted(big,reverse=True)[:20]: print(b[0]/2**20, b[1], b[2])
