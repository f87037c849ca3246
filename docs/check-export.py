#!/usr/bin/env python3
"""Check a fiscalbox journal export (format fiscalbox-journal-export-v1), independently of fiscalbox.

Python 3.8 or newer, standard library only. Checks numbering, the hash chain, the request and response
hashes, and (unless --no-signatures) every FB1 receipt signature against the queue's public key.
Usage: python3 check-export.py EXPORT.jsonl [--no-signatures]      exit code 0 = OK, 1 = problems found
"""
import base64
import hashlib
import json
import sys

GENESIS = "0" * 64

# NIST P-256 (secp256r1) domain parameters, for ECDSA verification without third-party packages.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def jacobian_double(pt):
    if pt is None or pt[1] == 0:
        return None
    x, y, z = pt
    yy = y * y % P
    s = 4 * x * yy % P
    m = (3 * x * x + A * pow(z, 4, P)) % P
    x3 = (m * m - 2 * s) % P
    return x3, (m * (s - x3) - 8 * yy * yy) % P, 2 * y * z % P


def jacobian_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1, z1), (x2, y2, z2) = p1, p2
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    if u1 == u2:
        return jacobian_double(p1) if s1 == s2 else None
    h, r = (u2 - u1) % P, (s2 - s1) % P
    hh = h * h % P
    hhh, v = h * hh % P, u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    return x3, (r * (v - x3) - s1 * hhh) % P, h * z1 * z2 % P


def double_multiply(k1, point1, k2, point2):
    """k1*point1 + k2*point2 on P-256 (Shamir's trick, Jacobian coordinates), as an affine point or None."""
    a, b = (point1[0], point1[1], 1), (point2[0], point2[1], 1)
    both, result = jacobian_add(a, b), None
    for bit in range(max(k1.bit_length(), k2.bit_length()) - 1, -1, -1):
        result = jacobian_double(result)
        pick = ((k1 >> bit) & 1, (k2 >> bit) & 1)
        if pick != (0, 0):
            result = jacobian_add(result, both if pick == (1, 1) else a if pick[0] else b)
    if result is None:
        return None
    z_inverse = pow(result[2], -1, P)
    return result[0] * z_inverse * z_inverse % P, result[1] * pow(z_inverse, 3, P) % P


def public_key_from_spki(spki_base64):
    der = base64.b64decode(spki_base64)
    if len(der) != 91 or not der.startswith(SPKI_PREFIX) or der[26] != 4:
        raise ValueError("publicKey is not an uncompressed P-256 SPKI key")
    x, y = int.from_bytes(der[27:59], "big"), int.from_bytes(der[59:91], "big")
    if (y * y - x * x * x - A * x - B) % P != 0:
        raise ValueError("publicKey is not a point on P-256")
    return x, y


def ecdsa_p256_sha256_verify(public_key, message, signature):
    """signature: IEEE P1363 form, r || s, 32 bytes each."""
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, -1, N)
    point = double_multiply(e * w % N, G, r * w % N, public_key)
    return point is not None and point[0] % N == r


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def chain_hash(previous_hash, queue_id, e):
    text = "|".join(["fiscalbox-journal-v1", queue_id, str(e["number"]), str(e["queueRow"]), e["moment"],
                     e["receiptCase"], e["total"], e["requestHash"], e["responseHash"]])
    return sha256_hex(bytes.fromhex(previous_hash) + text.encode("utf-8"))


def check_entry(e, header, key, previous, problems):
    """Checks one journal entry against the previous entry's hash and the header's queue and key."""
    at = f"receipt {e['number']}"
    if sha256_hex(e["request"].encode("utf-8")) != e["requestHash"]:
        problems.append(f"{at}: request does not match requestHash")
    if sha256_hex(e["response"].encode("utf-8")) != e["responseHash"]:
        problems.append(f"{at}: response does not match responseHash")
    if e["previousHash"] != previous:
        problems.append(f"{at}: previousHash does not link to the previous receipt's hash")
    if chain_hash(e["previousHash"], header["queueId"], e) != e["hash"]:
        problems.append(f"{at}: hash does not follow the chain rule")
    response = json.loads(e["response"])
    if (response.get("ftQueueID"), response.get("ftQueueRow"), response.get("ftReceiptMoment")) != (
            header["queueId"], e["queueRow"], e["moment"]):
        problems.append(f"{at}: response queue, row or moment differ from the journal entry")
    if not str(response.get("ftReceiptIdentification", "")).startswith(f"ft{e['number']:X}#"):
        problems.append(f"{at}: ftReceiptIdentification does not carry number {e['number']}")
    codes = [s["Data"] for s in response.get("ftSignatures", []) if s.get("Data", "").startswith("FB1_")]
    if not codes:
        problems.append(f"{at}: no FB1 receipt signature")
        return
    parts = codes[0].split("_")
    signed = "_".join(parts[:6])
    if parts[:6] != ["FB1", header["queueId"], str(e["number"]), e["moment"], e["total"], e["previousHash"]]:
        problems.append(f"{at}: FB1 payload does not match the journal entry")
    if key is not None:
        signature = "_".join(parts[6:])  # base64url may contain "_": the signature is all after the 6th "_"
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        if not ecdsa_p256_sha256_verify(key, signed.encode("utf-8"), raw):
            problems.append(f"{at}: signature does not verify with the queue's public key")


def check(path, signatures=True):
    """Returns (number of entries, hash of the last entry, list of problems)."""
    problems, header, key = [], None, None
    expected_number, last_row, previous, count = 1, 0, GENESIS, 0
    with open(path, encoding="utf-8") as lines:
        for line_number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if header is None:
                    header = record
                    if header.get("format") != "fiscalbox-journal-export-v1":
                        problems.append(f"line {line_number}: unknown format {header.get('format')!r}")
                    key = public_key_from_spki(header["publicKey"]) if signatures else None
                    continue
                count, at = count + 1, f"receipt {record['number']}"
                if record["number"] != expected_number:
                    problems.append(f"{at}: expected number {expected_number} (gap or duplicate)")
                if record["queueRow"] <= last_row:
                    problems.append(f"{at}: queue row {record['queueRow']} does not increase")
                expected_number, last_row = record["number"] + 1, record["queueRow"]
                check_entry(record, header, key, previous, problems)
                previous = record["hash"]
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                problems.append(f"line {line_number}: cannot be read: {error!r}")
    if header is None:
        problems.append("no header line: not a fiscalbox journal export")
    elif count < header.get("receipts", 0):
        problems.append(f"header announces {header['receipts']} receipts, the file holds {count}: truncated?")
    return count, previous, problems


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--no-signatures"]
    if len(args) != 1:
        sys.exit(__doc__)
    receipts, head, found = check(args[0], signatures="--no-signatures" not in sys.argv)
    if found:
        print(f"FAILED: {len(found)} problem(s) in {receipts} receipts")
        print("\n".join(f"  {p}" for p in found[:1000]))
        sys.exit(1)
    print(f"OK: {receipts} receipts, chain verified, head {head}")
