#!/bin/sh
# Regenerates the OpenSSL fixtures of tests/openssl_fixtures.rs (see PROVENANCE).
set -eu
cd "$(dirname "$0")"
rm -rf work && mkdir work && cd work
cat > ext.cnf <<'CNF'
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[ocsp]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
CNF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -subj "/CN=OpenSSL Fixture CA/O=secdispatch" -days 3650 -set_serial 1 -extensions ca -config ext.cnf 2>/dev/null \
  || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -subj "/CN=OpenSSL Fixture CA/O=secdispatch" -days 3650 -set_serial 1 -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
for n in leaf revoked ocsp; do
  openssl req -newkey ed25519 -nodes -keyout $n.key -out $n.csr -subj "/CN=$n" 2>/dev/null
done
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x99 -days 365 -extfile ext.cnf -extensions leaf -out leaf.pem
openssl x509 -req -in revoked.csr -CA ca.pem -CAkey ca.key -set_serial 0x9a -days 365 -extfile ext.cnf -extensions leaf -out revoked.pem
openssl x509 -req -in ocsp.csr -CA ca.pem -CAkey ca.key -set_serial 0x1000 -days 365 -extfile ext.cnf -extensions ocsp -out ocsp.pem
EXP=$(date -u -d '+365 days' +%y%m%d%H%M%SZ)
REV=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t99\tunknown\t/CN=leaf\n' "$EXP" > index.txt
printf 'R\t%s\t%s,keyCompromise\t9A\tunknown\t/CN=revoked\n' "$EXP" "$REV" >> index.txt
# Requests: SHA-1 + nonce (openssl default), SHA-256 without nonce, an unknown serial.
openssl ocsp -issuer ca.pem -cert leaf.pem -reqout ../req_sha1_nonce.der
openssl ocsp -sha256 -issuer ca.pem -cert leaf.pem -no_nonce -reqout ../req_sha256.der
openssl ocsp -issuer ca.pem -cert revoked.pem -no_nonce -reqout ../req_revoked.der
openssl ocsp -issuer ca.pem -serial 0x77 -no_nonce -reqout ../req_unknown.der
# A signed request (requestorName + optionalSignature), signed with the CA key.
openssl ocsp -issuer ca.pem -cert leaf.pem -signer ca.pem -signkey ca.key -reqout ../req_signed.der
# Responses signed by the CA (byName, OpenSSL's default) and by a delegated responder (byKey).
openssl ocsp -index index.txt -CA ca.pem -rsigner ca.pem -rkey ca.key -ndays 1 -reqin ../req_sha1_nonce.der -respout ../resp_good_ca_byname_nonce.der
openssl ocsp -index index.txt -CA ca.pem -rsigner ocsp.pem -rkey ocsp.key -resp_key_id -ndays 1 -reqin ../req_sha256.der -respout ../resp_good_delegated_bykey_sha256.der
openssl ocsp -index index.txt -CA ca.pem -rsigner ca.pem -rkey ca.key -resp_key_id -resp_no_certs -ndays 1 -reqin ../req_revoked.der -respout ../resp_revoked_ca_bykey.der
openssl ocsp -index index.txt -CA ca.pem -rsigner ca.pem -rkey ca.key -ndays 1 -reqin ../req_unknown.der -respout ../resp_unknown_ca.der
cp ca.pem ocsp.pem leaf.pem revoked.pem ..
cd .. && rm -rf work
