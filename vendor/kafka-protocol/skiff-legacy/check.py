#!/usr/bin/env python3
"""For each widened message, check that for every version in Kafka 3.9.2's
validVersions the merged spec has exactly 3.9.2's wire layout (fields, order,
types, nullability, tagging, flexibility, defaults; "ignorable" is left out,
it only matters for versions that lack the field).
Usage: check.py <3.9.2 dir> <merged dir>"""
import json, re, sys, pathlib

def load(p):
    t = pathlib.Path(p).read_text()
    t = re.sub(r'^\s*//.*$', '', t, flags=re.M)
    return json.loads(t)

def vr(s, v):
    if s is None or s == "none": return False
    if s.endswith("+"): return v >= int(s[:-1])
    if "-" in s:
        a, b = s.split("-"); return int(a) <= v <= int(b)
    return v == int(s)

def rng(s):
    a, b = s.split("-") if "-" in s else (s, s)
    return range(int(a), int(b) + 1)

def layout(spec, v):
    commons = {c["name"]: c for c in spec.get("commonStructs", [])}
    def fields(fs, path):
        out = []
        for f in fs:
            if not vr(f["versions"], v): continue
            ty = f["type"]
            sub = f.get("fields")
            if sub is None:
                base = ty[2:] if ty.startswith("[]") else ty
                if base in commons: sub = commons[base]["fields"]
            out.append((path + f["name"], ty, vr(f.get("nullableVersions"), v),
                        vr(f.get("taggedVersions"), v), f.get("tag"),
                        str(f.get("default"))))
            if sub: out += fields(sub, path + f["name"] + ".")
        return out
    return (vr(spec.get("flexibleVersions"), v), fields(spec["fields"], ""))

bad = 0
for name in ["Produce", "Fetch", "ListOffsets", "OffsetCommit", "OffsetFetch", "CreateTopics",
             "DeleteTopics", "DescribeConfigs", "DescribeLogDirs", "OffsetForLeaderEpoch"]:
    for kind in ("Request", "Response"):
        old = load(f"{sys.argv[1]}/{name}{kind}.json")
        new = load(f"{sys.argv[2]}/{name}{kind}.json")
        for v in rng(old["validVersions"]):
            a, b = layout(old, v), layout(new, v)
            if a != b:
                # report field-level differences
                sa, sb = set(a[1]), set(b[1])
                print(f"{name}{kind} v{v}: flex {a[0]}/{b[0]} only3.9={sorted(sa-sb)} onlyMerged={sorted(sb-sa)}")
                bad += 1
        print(f"{name}{kind}: 3.9 {old['validVersions']} merged {new['validVersions']}")
print("differences:", bad)
