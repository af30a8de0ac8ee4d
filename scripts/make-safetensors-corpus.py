#!/usr/bin/env python3
"""The malformed-safetensors corpus (shared/RELIABILITY.md section 2.4, classes S01-S29) and its
differential goldens from the Python `safetensors` package, for test/model-files.test.ts.

Writes one small file per case into test/fixtures/safetensors/ and, into
test/goldens/safetensors.json, for each: the class, what our header parser must say ("ok" or a
typed error code) and what `safetensors.safe_open` (Rust reader) says when it opens the file and
reads every tensor. The verdicts must agree (both accept or both refuse) except in the cases
listed in STRICTER, where our reader is documented to refuse what the reference accepts; the
script fails on any other disagreement, and the test re-checks the same rule on the goldens.

Classes that need a whole model folder (S28 and S30 on real tensors, S31-S34) are built by the test
itself from the tiny fixtures (S28, S30) or committed as folders (test/fixtures/model-files/).

Requires: pip install safetensors torch   (run from anywhere)
"""
import json
import os
import struct
import sys

import safetensors
from safetensors import safe_open

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "safetensors")
GOLDENS = os.path.join(ROOT, "test", "goldens", "safetensors.json")


def le64(n):
    return struct.pack("<Q", n)


def image(header, data=b""):
    h = header.encode("utf-8") if isinstance(header, str) else header
    return le64(len(h)) + h + data


def entry(name, dtype, shape, b, e):
    return '"%s":{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}' % (name, dtype, shape, b, e)


A4 = entry("a", "F32", "[1]", 0, 4)
F1 = struct.pack("<f", 1.5)
Z4 = b"\0" * 4

# (name, bytes, what our parser says, why)
CASES = [
    ("S01-empty", b"", "TRUNCATED", "no length prefix"),
    ("S01-seven-bytes", b"\0" * 7, "TRUNCATED", "7 of the 8 prefix bytes"),
    ("S02-header-too-large", le64(100_000_001) + b"{}", "HEADER_TOO_LARGE", "N over 100,000,000"),
    ("S03-past-end", le64(100) + b"{}", "TRUNCATED", "N + 8 beyond the file"),
    ("S04-max-u64", le64(2**64 - 1) + b"{}", "HEADER_TOO_LARGE", "N + 8 overflows"),
    ("S05-not-utf8", image(b'{"__metadata__":{"k":"\xff"}}'), "BAD_HEADER", "a 0xff byte in a string"),
    ("S05-surrogate", image(b'{"a\xed\xa0\x80":1}'), "BAD_HEADER", "a UTF-16 surrogate encoded in UTF-8"),
    ("S06-not-json", image("hello"), "BAD_HEADER", "not JSON"),
    ("S06-truncated-json", image('{"a":{"dtype":"F32"'), "BAD_HEADER", "JSON cut short"),
    ("S06-trailing-garbage", image("{} x"), "BAD_HEADER", "text after the object"),
    ("S06-nul-padding", image(b"{}\0\0"), "BAD_HEADER", "NUL bytes are not whitespace"),
    ("S07-array", image("[]"), "BAD_HEADER", "top level an array"),
    ("S07-string", image('"x"'), "BAD_HEADER", "top level a string"),
    ("S07-null", image("null"), "BAD_HEADER", "top level null"),
    ("S08-whitespace-padding", image("  {" + A4 + "}   ", F1), "ok", "blanks before and after the object"),
    ("S09-duplicate-tensor", image("{" + A4 + "," + A4 + "}", Z4), "DUPLICATE_KEY", "the same tensor twice"),
    ("S10-duplicate-metadata", image('{"__metadata__":{"k":"1"},"__metadata__":{"k":"2"}}'), "DUPLICATE_KEY",
     "__metadata__ twice"),
    ("S11-metadata-number", image('{"__metadata__":{"k":1}}'), "BAD_HEADER", "a metadata value that is a number"),
    ("S11-metadata-object", image('{"__metadata__":{"k":{}}}'), "BAD_HEADER", "a metadata value that is an object"),
    ("S12-extra-field", image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":[1,2]}}', F1), "ok",
     "an unknown field in a tensor entry"),
    ("S13-missing-dtype", image('{"a":{"shape":[1],"data_offsets":[0,4]}}', Z4), "BAD_HEADER", "no dtype"),
    ("S13-missing-shape", image('{"a":{"dtype":"F32","data_offsets":[0,4]}}', Z4), "BAD_HEADER", "no shape"),
    ("S13-missing-offsets", image('{"a":{"dtype":"F32","shape":[1]}}', Z4), "BAD_HEADER", "no data_offsets"),
    ("S14-f128", image("{" + entry("a", "F128", "[1]", 0, 16) + "}", b"\0" * 16), "BAD_DTYPE", "F128"),
    ("S14-lowercase", image("{" + entry("a", "f16", "[2]", 0, 4) + "}", Z4), "BAD_DTYPE", "f16 in lower case"),
    ("S15-three-offsets", image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', Z4), "BAD_OFFSET",
     "data_offsets with three numbers"),
    ("S15-negative", image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', Z4), "BAD_OFFSET",
     "a negative offset"),
    ("S15-float", image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', Z4), "BAD_OFFSET",
     "an offset written 4.0"),
    ("S15-above-2-53", image('{"a":{"dtype":"U8","shape":[1],"data_offsets":[9007199254740993,9007199254740994]}}', b"\0"),
     "BAD_OFFSET", "offsets above 2^53 (JavaScript numbers would round them)"),
    ("S16-begin-after-end", image("{" + entry("a", "F32", "[1]", 4, 0) + "}", Z4), "BAD_OFFSET", "begin > end"),
    ("S17-not-at-zero", image("{" + entry("a", "F32", "[1]", 4, 8) + "}", b"\0" * 8), "BAD_OFFSET",
     "the first tensor at 4"),
    ("S18-hole", image("{" + A4 + "," + entry("b", "F32", "[1]", 8, 12) + "}", b"\0" * 12), "BAD_OFFSET",
     "4 bytes between two tensors"),
    ("S19-overlap", image("{" + A4 + "," + entry("b", "F32", "[1]", 2, 6) + "}", b"\0" * 6), "BAD_OFFSET",
     "two tensors sharing bytes"),
    ("S19-ten-on-one-range", image("{" + ",".join(entry("t%d" % i, "F32", "[1]", 0, 4) for i in range(10)) + "}", Z4),
     "BAD_OFFSET", "ten tensors on the same 4 bytes"),
    ("S20-trailing-bytes", image("{" + A4 + "}", b"\0" * 5), "INCOMPLETE_BUFFER", "a byte after the last tensor"),
    ("S20-polyglot", image("{}", b"PK\x03\x04"), "INCOMPLETE_BUFFER", "a zip signature after the header"),
    ("S21-short-buffer", image("{" + A4 + "}", b"\0" * 3), "TRUNCATED", "3 of 4 data bytes"),
    ("S22-shape-product", image("{" + entry("a", "U8", "[4294967296,4294967296]", 0, 0) + "}"), "OVERFLOW",
     "2^32 x 2^32 elements"),
    ("S23-bits", image("{" + entry("a", "F32", "[4611686018427387904]", 0, 0) + "}"), "OVERFLOW",
     "2^62 elements of 32 bits"),
    ("S24-size-mismatch", image("{" + entry("a", "BF16", "[2,2]", 0, 16) + "}", b"\0" * 16), "BAD_TENSOR_INFO",
     "8 bytes of data given 16"),
    ("S25-sub-byte", image("{" + entry("a", "F4", "[3]", 0, 2) + "}", b"\0" * 2), "MISALIGNED_SLICE",
     "3 F4 values: 12 bits"),
    ("S26-empty-and-scalar", image("{" + entry("e", "F32", "[2,0]", 0, 0) + "," + entry("s", "F32", "[]", 0, 4) + "}", F1),
     "ok", "a [2, 0] tensor and a scalar"),
    ("S27-no-tensors", image("{}"), "ok", "{} and no data"),
    ("S28-unsupported-dtypes",
     image("{" + entry("e8", "F8_E8M0", "[4]", 0, 4) + "," + entry("c", "C64", "[1]", 4, 12) + "}", b"\0" * 12), "ok",
     "valid dtypes the engine cannot compute with (refused when a model uses them: see the test)"),
    ("S29-odd-data-address", image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} ', F1), "ok",
     "a header of odd length: the data starts at an odd address"),
]

# Where our reader refuses what the reference reader accepts, and why.
STRICTER = {
    "S09-duplicate-tensor": "the reference's map keeps the last of duplicate tensor keys; we refuse them (RELIABILITY.md S09)",
}


def reference_verdict(path):
    try:
        with safe_open(path, framework="pt") as f:
            for k in f.keys():
                f.get_tensor(k)
        return "ok"
    except Exception as e:  # the reference's own message, for the record
        return "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".safetensors"):
            os.remove(os.path.join(OUT, f))
    goldens = []
    disagreements = []
    for name, data, ours, why in CASES:
        path = os.path.join(OUT, name + ".safetensors")
        with open(path, "wb") as fh:
            fh.write(data)
        ref = reference_verdict(path)
        agree = (ref == "ok") == (ours == "ok")
        if not agree and name not in STRICTER:
            disagreements.append("%s: ours %s, reference %s" % (name, ours, ref))
        if agree and name in STRICTER:
            disagreements.append("%s: listed as stricter, but both say %s" % (name, ours))
        goldens.append({"file": name + ".safetensors", "class": name[:3], "why": why, "expect": ours,
                        "reference": ref, "stricter": STRICTER.get(name)})
    with open(GOLDENS, "w") as fh:
        json.dump({"reference": "safetensors %s (Python), safe_open(framework='pt') and get_tensor on every key"
                   % safetensors.__version__, "cases": goldens}, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("%d files in %s, goldens in %s" % (len(CASES), os.path.relpath(OUT, ROOT), os.path.relpath(GOLDENS, ROOT)))
    if disagreements:
        print("disagreements with the reference:\n  " + "\n  ".join(disagreements), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
