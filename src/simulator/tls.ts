import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

/**
 * Certificates for the simulator: a throwaway CA, a server certificate it signs for 127.0.0.1 and
 * localhost (msal-node refuses http:// authorities, so the simulator must speak HTTPS), and a client
 * certificate whose key signs client assertions. Keys come from node:crypto (fast, native); node-forge
 * only builds and signs the X.509 structures.
 */
export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
  /** Hex SHA-1 thumbprint (what `x5t` carries, base64url-encoded). */
  thumbprintSha1: string;
  /** Hex SHA-256 thumbprint (what `x5t#S256` carries). */
  thumbprintSha256: string;
}

function rsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    privatePem: privateKey,
  };
}

function baseCertificate(publicKey: forge.pki.rsa.PublicKey, commonName: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive serial: a leading 0x00-0x7f byte keeps the DER integer positive.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'onedrive-connector simulator' }]);
  return cert;
}

export function generateTlsMaterial(hostnames: readonly string[] = ['localhost'], ips: readonly string[] = ['127.0.0.1']): TlsMaterial {
  const ca = rsaKeyPair();
  const caCert = baseCertificate(ca.publicKey, 'onedrive-connector simulator CA', 3650);
  caCert.setIssuer(caCert.subject.attributes);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const server = rsaKeyPair();
  const cert = baseCertificate(server.publicKey, hostnames[0] ?? 'localhost', 825);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...hostnames.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());
  return { caPem: forge.pki.certificateToPem(caCert), certPem: forge.pki.certificateToPem(cert), keyPem: server.privatePem };
}

/** A self-signed client certificate, as one would upload to an app registration (o365-api.md §3). */
export function generateClientCertificate(): ClientCertificate {
  const pair = rsaKeyPair();
  const cert = baseCertificate(pair.publicKey, 'onedrive-connector simulated client', 730);
  cert.setIssuer(cert.subject.attributes);
  cert.sign(pair.privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, keyPem: pair.privatePem, ...thumbprints(certPem) };
}

export function thumbprints(certPem: string): { thumbprintSha1: string; thumbprintSha256: string } {
  const der = new X509Certificate(certPem).raw;
  return {
    thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}
