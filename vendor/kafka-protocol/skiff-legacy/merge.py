#!/usr/bin/env python3
"""Build Skiff's legacy-version message specs: Kafka 4.1.1's JSON with the
versions KIP-896 removed (and the fields only those versions had) taken back
from Kafka 3.9.2's JSON. Usage: merge.py <4.1.1 message dir> <out dir>"""
import re, shutil, sys, pathlib

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
if out.exists():
    shutil.rmtree(out)
shutil.copytree(src, out)

# message -> (4.1.1 validVersions, widened validVersions)
WIDEN = {
    "Produce": ("3-13", "0-13"),
    "Fetch": ("4-18", "0-18"),
    "ListOffsets": ("1-10", "0-10"),
    "OffsetCommit": ("2-10", "0-10"),
    "OffsetFetch": ("1-10", "0-10"),
    "CreateTopics": ("2-7", "0-7"),
    "DeleteTopics": ("1-6", "0-6"),
    "DescribeConfigs": ("1-4", "0-4"),
    "DescribeLogDirs": ("1-4", "0-4"),
    "OffsetForLeaderEpoch": ("2-4", "0-4"),
}
NOTE = "  // Skiff: the versions KIP-896 removed in Kafka 4.0 are taken back from Kafka 3.9.2's spec.\n"

# (file, anchor line after which to insert, text) -- the inserted field
# definitions are Kafka 3.9.2's, verbatim.
INSERT = [
    ("ListOffsetsRequest.json",
     '"about": "The current timestamp." }',
     ',\n        { "name": "MaxNumOffsets", "type": "int32", "versions": "0", "default": "1",\n'
     '          "about": "The maximum number of offsets to report." }'),
    ("ListOffsetsResponse.json",
     '"about": "The partition error code, or 0 if there was no error." },',
     '\n        { "name": "OldStyleOffsets", "type": "[]int64", "versions": "0", "ignorable": false,\n'
     '          "about": "The result offsets." },'),
    ("OffsetCommitRequest.json",
     '"about": "The leader epoch of this partition." },',
     '\n        // CommitTimestamp has been removed from v2 and later.\n'
     '        { "name": "CommitTimestamp", "type": "int64", "versions": "1", "default": "-1",\n'
     '          "about": "The timestamp of the commit." },'),
    ("DescribeConfigsResponse.json",
     '"about": "True if the configuration is read-only." },',
     '\n        { "name": "IsDefault", "type": "bool", "versions": "0",\n'
     '          "about": "True if the configuration is not set." },\n'
     '        // Note: the v0 default for this field that should be exposed to callers is\n'
     '        // context-dependent. For example, if the resource is a broker, this should default to 4.\n'
     '        // -1 is just a placeholder value.'),
]

for name, (old, new) in WIDEN.items():
    for kind in ("Request", "Response"):
        p = out / f"{name}{kind}.json"
        text = p.read_text()
        pat = f'"validVersions": "{old}",\n'
        assert text.count(pat) == 1, (p, pat)
        text = text.replace(pat, NOTE + f'  "validVersions": "{new}",\n')
        p.write_text(text)

for fname, anchor, add in INSERT:
    p = out / fname
    text = p.read_text()
    assert text.count(anchor) == 1, (fname, anchor)
    text = text.replace(anchor, anchor + add)
    p.write_text(text)
