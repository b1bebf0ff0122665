"""Keys and JWTs made by a real library (PyJWT with ``cryptography``), for tests/test_jwt.py.

Runs under ``$MCPLITE_SDK_PYTHON`` (the official SDK depends on ``pyjwt[crypto]``); this
suite's Python has neither. Reads a JSON plan on stdin, prints JSON on stdout:

    {"keys": [{"name": "r1", "kty": "RSA", "bits": 2048, "kid": "r1"},
              {"name": "e1", "kty": "EC", "kid": "e1"}],
     "tokens": [{"name": "good", "key": "r1", "alg": "RS256", "claims": {...}, "header": {...}},
                {"name": "none", "alg": "none", "claims": {...}},
                {"name": "confused", "key": "r1", "alg": "HS256", "claims": {...}}]}
    -> {"jwks": {"r1": <public JWK>, ...}, "tokens": {"good": "eyJ...", ...},
        "private_d": {<name>: <the RSA private exponent, base64url>} for keys with "export_private"}

A token's ``kid`` is its key's unless its header says otherwise. ``HS256`` with an RSA key
is the algorithm-confusion attack: an HMAC made with the key's public PEM as the secret
(PyJWT's ``jwt.encode`` refuses an asymmetric key as an HMAC secret, so the HMAC algorithm
object is used directly).
"""

import json
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode


def main():
    plan = json.load(sys.stdin)
    private, public, secrets = {}, {}, {}
    for spec in plan.get("keys", []):
        if spec["kty"] == "RSA":
            key = rsa.generate_private_key(public_exponent=65537, key_size=spec.get("bits", 2048))
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        jwk["kid"] = spec["kid"]
        jwk.update(spec.get("extra", {}))
        private[spec["name"]], public[spec["name"]] = key, jwk
        if spec.get("export_private"):  # a test key whose d the test needs (to sign malformed encodings)
            secrets[spec["name"]] = RSAAlgorithm.to_jwk(key, as_dict=True)["d"]
    tokens = {}
    for spec in plan.get("tokens", []):
        header = dict(spec.get("header", {}))
        alg = spec["alg"]
        if alg == "none":
            tokens[spec["name"]] = jwt.encode(spec["claims"], None, algorithm="none", headers=header or None)
            continue
        key = private[spec["key"]]
        if "kid" not in header and "nokid" not in spec:
            header["kid"] = public[spec["key"]]["kid"]
        if alg.startswith("HS"):
            secret = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
            head = dict(header, alg=alg, typ="JWT")
            signing_input = b".".join(base64url_encode(json.dumps(part, separators=(",", ":")).encode())
                                      for part in (head, spec["claims"]))
            signature = HMACAlgorithm(HMACAlgorithm.SHA256).sign(signing_input, secret)
            tokens[spec["name"]] = (signing_input + b"." + base64url_encode(signature)).decode()
            continue
        tokens[spec["name"]] = jwt.encode(spec["claims"], key, algorithm=alg, headers=header)
    json.dump({"jwks": public, "private_d": secrets, "tokens": tokens, "pyjwt": jwt.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
