#!/usr/bin/python3
"""Checks of a published data package, for test/e2e/package.sh (Debian's python3 and
python3-jsonschema; nothing else).

  datapackage.py schema SCHEMA DESCRIPTOR...  each descriptor against the Data Package v2.0
                                              profile (JSON Schema draft-07)
  datapackage.py files BASE                   BASE/datapackage.json: every resource's path lies in
                                              BASE and its file has the `bytes` and `hash` stated;
                                              `created` is RFC 3339. BASE is a folder or an
                                              http:// URL (an S3 prefix read through its endpoint)
  datapackage.py poll FOLDER                  one look by a reader while a version is published:
                                              prints `absent`, `ok VERSION`, `torn` (the descriptor
                                              changed while its files were read: the look proves
                                              nothing) or `violation: ...`; always exits 0

Prints the problems found and exits 1 when there are any.
"""
import datetime
import hashlib
import json
import os
import posixpath
import sys


def read(base, path):
    """The bytes of `path` below `base` (a folder or an http:// URL), or None when it is absent."""
    if base.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request
        try:
            with urllib.request.urlopen(base.rstrip("/") + "/" + path, timeout=30) as answer:
                return answer.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise
    try:
        with open(os.path.join(base, path), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def safe_relative(path):
    """Whether a resource path is a relative POSIX path that stays inside the package."""
    return (isinstance(path, str) and path != "" and not path.startswith("/") and "\\" not in path
            and ":" not in path.split("/")[0] and ".." not in path.split("/")
            and posixpath.normpath(path) == path)


def resource_problems(base, descriptor):
    """What is wrong with the files a descriptor names (an empty list when nothing is)."""
    problems = []
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        return ["no resources"]
    for r in resources:
        name = r.get("name", "?")
        paths = r.get("path")
        paths = paths if isinstance(paths, list) else [paths]
        if len(paths) != 1:
            problems.append(f"{name}: {len(paths)} paths where geoetl writes one")
            continue
        path = paths[0]
        if not safe_relative(path):
            problems.append(f"{name}: path {path!r} is not a relative POSIX path inside the package")
            continue
        data = read(base, path)
        if data is None:
            problems.append(f"{name}: {path} does not exist")
            continue
        if r.get("bytes") != len(data):
            problems.append(f"{name}: {path} has {len(data)} bytes, the descriptor says {r.get('bytes')}")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if r.get("hash") != digest:
            problems.append(f"{name}: {path} hashes to {digest}, the descriptor says {r.get('hash')}")
    return problems


def rfc3339(text):
    try:
        return isinstance(text, str) and "T" in text and \
            datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def check_schema(schema_path, descriptors):
    import jsonschema  # Debian's python3-jsonschema
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    bad = 0
    for path in descriptors:
        with open(path) as f:
            descriptor = json.load(f)
        for error in validator.iter_errors(descriptor):
            bad += 1
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            print(f"{path}: {where}: {error.message}")
    return bad == 0


def check_files(base):
    raw = read(base, "datapackage.json")
    if raw is None:
        print(f"{base}: no datapackage.json")
        return False
    descriptor = json.loads(raw)
    problems = resource_problems(base, descriptor)
    if not rfc3339(descriptor.get("created")):
        problems.append(f"created {descriptor.get('created')!r} is not an RFC 3339 date-time")
    for p in problems:
        print(f"{base}: {p}")
    return not problems


def poll(folder):
    """One reader's look: the descriptor, the files it names, the descriptor again."""
    path = os.path.join(folder, "datapackage.json")
    try:
        with open(path, "rb") as f:
            before, inode = f.read(), os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return "absent"
    try:
        descriptor = json.loads(before)
    except ValueError as e:  # written whole or not at all: never a part of one
        return f"violation: datapackage.json is not JSON ({e})"
    problems = resource_problems(folder, descriptor)
    try:
        with open(path, "rb") as f:
            after, inode_after = f.read(), os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        after, inode_after = None, None
    if (after, inode_after) != (before, inode):
        return "torn"
    if problems:
        return "violation: " + "; ".join(problems)
    return f"ok {descriptor.get('version')}"


def main(argv):
    if len(argv) >= 4 and argv[1] == "schema":
        return 0 if check_schema(argv[2], argv[3:]) else 1
    if len(argv) == 3 and argv[1] == "files":
        return 0 if check_files(argv[2]) else 1
    if len(argv) == 3 and argv[1] == "poll":
        print(poll(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
