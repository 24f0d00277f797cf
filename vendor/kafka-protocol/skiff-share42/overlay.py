#!/usr/bin/env python3
"""Overlay Kafka 4.2.2's share-group message specs on a spec dir (the output of
skiff-legacy/merge.py) before running kafka-protocol-rs's generator.
Usage: overlay.py <4.2.2 message dir> <spec dir>

Copies the files below verbatim, except one normalization: Kafka 4.2's
DescribeShareGroupOffsetsResponse.json writes `"ignorable": "true"` (a JSON
string, which Kafka's Jackson-based generator coerces) where every other spec
writes the boolean `true`; the Rust generator's serde parser accepts only the
boolean, so the string is rewritten to it. Nothing else is changed."""
import pathlib, re, sys

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
FILES = [
    "DescribeShareGroupOffsetsRequest.json",
    "DescribeShareGroupOffsetsResponse.json",
    "ShareFetchRequest.json",
    "ShareFetchResponse.json",
    "ShareAcknowledgeRequest.json",
    "ShareAcknowledgeResponse.json",
]
for name in FILES:
    text = (src / name).read_text()
    text, n = re.subn(r'"ignorable":\s*"true"', '"ignorable": true', text)
    (out / name).write_text(text)
    print(f"{name}: copied{f', {n} ignorable string(s) normalized' if n else ''}")
