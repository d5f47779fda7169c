#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks a running vmm's control socket against docs/openapi.yaml.

    openapi_check.py SPEC SOCKET

Every documented path and method is requested: GETs as they are (their
answer must match the documented schema's required keys and types), PUTs
with a body holding an unknown field, so each answers 400 without acting
on the VM.  Every answer's status must be documented for that operation
and every body must parse as JSON.  vm.events is read until the first
chunk or 1 s.  Prints one line per check and ends with "N passed, M failed".
"""
import http.client
import json
import socket
import sys

import yaml


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = spec
        for p in parts:
            node = node[p]
    return node


TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
         "integer": int, "number": (int, float)}


def check_schema(spec, schema, value, where):
    """Shallow but recursive: types, required keys, enums."""
    schema = resolve(spec, schema)
    if value is None and schema.get("nullable"):
        return []
    if "allOf" in schema:
        errs = []
        for s in schema["allOf"]:
            errs += check_schema(spec, s, value, where)
        return errs
    errs = []
    t = schema.get("type")
    if t and not isinstance(value, TYPES[t]) or (t == "integer" and isinstance(value, bool)):
        return [f"{where}: {value!r} is not {t}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{where}: {value!r} not in {schema['enum']}")
    if t == "object":
        for k in schema.get("required", []):
            if k not in value:
                errs.append(f"{where}: no '{k}'")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                errs += check_schema(spec, props[k], v, f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{where}: undocumented key '{k}'")
            elif isinstance(schema.get("additionalProperties"), dict):
                errs += check_schema(spec, schema["additionalProperties"], v,
                                     f"{where}.{k}")
    if t == "array":
        for i, v in enumerate(value):
            errs += check_schema(spec, schema.get("items", {}), v, f"{where}[{i}]")
    return errs


def main():
    spec_path, sock = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    passed = failed = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            method = method.upper()
            name = f"{method} {path}"
            errs = []
            conn = UnixHTTPConnection(sock)
            body = None
            if method == "PUT":
                body = b'{"openapi_check_unknown_field": 1}'
            try:
                conn.request(method, "/api/v1" + path, body=body,
                             headers={"Content-Type": "application/json"} if body else {})
                resp = conn.getresponse()
                status = str(resp.status)
                if path == "/vm.events":
                    conn.sock.settimeout(1)
                    try:
                        data = resp.read1(4096)
                    except (socket.timeout, TimeoutError):
                        data = b""
                else:
                    data = resp.read()
            except (OSError, http.client.HTTPException) as e:
                print(f"FAIL {name}: no answer: {e}")
                failed += 1
                continue
            finally:
                conn.close()
            responses = op.get("responses", {})
            if status not in responses:
                errs.append(f"status {status} is not documented ({', '.join(responses)})")
            if method == "PUT" and status != "400":
                errs.append(f"a body with an unknown field gave {status}, not 400")
            if path == "/vm.events":
                for line in data.decode(errors="replace").splitlines():
                    try:
                        errs += check_schema(spec, {"$ref": "#/components/schemas/Event"},
                                             json.loads(line), "event")
                    except ValueError:
                        errs.append(f"event line is not JSON: {line!r}")
            elif data:
                try:
                    value = json.loads(data)
                except ValueError:
                    value = None
                    errs.append(f"answer is not JSON: {data[:80]!r}")
                doc = resolve(spec, responses.get(status, {}))
                schema = doc.get("content", {}).get("application/json", {}).get("schema")
                if value is not None and schema:
                    errs += check_schema(spec, schema, value, "answer")
            elif status != "204":
                errs.append(f"status {status} without a body")
            if errs:
                print(f"FAIL {name}: " + "; ".join(errs))
                failed += 1
            else:
                print(f"PASS {name}: {status}")
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
