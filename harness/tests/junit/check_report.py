"""Reads a petset JUnit report with junitparser (an independent consumer) and checks it
against the expectations given as JSON on the command line.

Usage: check_report.py REPORT EXPECTATIONS_JSON

EXPECTATIONS_JSON: {"tests": N, "failures": N, "errors": N, "skipped": N,
  "cases": {"<classname>/<name>": {"status": "passed|failed|error|skipped", "type": "...",
            "message_contains": [...], "body_contains": [...],
            "properties": {name: value or "*"}, "flaky_failures": N,
            "system_out_contains": [...]}}}
"""

import json
import sys

from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped


def main() -> None:
    report, expected = sys.argv[1], json.loads(sys.argv[2])
    xml = JUnitXml.fromfile(report)
    cases = {}
    tests = failures = errors = skipped = 0
    for suite in xml:
        for case in suite:
            key = f"{case.classname}/{case.name}"
            assert key not in cases, f"duplicate testcase {key}"
            cases[key] = case
            tests += 1
            results = case.result
            if any(isinstance(r, Failure) for r in results):
                failures += 1
            if any(isinstance(r, Error) for r in results):
                errors += 1
            if any(isinstance(r, Skipped) for r in results):
                skipped += 1
    counts = {"tests": tests, "failures": failures, "errors": errors, "skipped": skipped}
    for name, value in counts.items():
        if name in expected:
            assert value == expected[name], f"{name}: expected {expected[name]}, got {value}"
    for key, want in expected.get("cases", {}).items():
        assert key in cases, f"missing testcase {key}; have {sorted(cases)}"
        case = cases[key]
        results = case.result
        status = "passed"
        if any(isinstance(r, Failure) for r in results):
            status = "failed"
        elif any(isinstance(r, Error) for r in results):
            status = "error"
        elif any(isinstance(r, Skipped) for r in results):
            status = "skipped"
        assert status == want["status"], f"{key}: expected {want['status']}, got {status}"
        for result in results:
            for part in want.get("message_contains", []):
                assert part in (result.message or ""), f"{key}: message {result.message!r} lacks {part!r}"
            for part in want.get("body_contains", []):
                assert part in (result.text or ""), f"{key}: body lacks {part!r}"
            if "type" in want:
                assert result.type == want["type"], f"{key}: type {result.type!r}, expected {want['type']!r}"
            if "message_is_one_line" in want:
                assert "\n" not in (result.message or ""), f"{key}: message is not one line"
        props = {
            prop.name: prop.value
            for block in case.iterchildren(Properties)
            for prop in block.iterchildren(Property)
        }
        for name, value in want.get("properties", {}).items():
            assert name in props, f"{key}: no property {name}; have {props}"
            if value != "*":
                assert props[name] == value, f"{key}: property {name}={props[name]!r}, expected {value!r}"
        # junitparser models only failure/error/skipped results; the rerun elements are read
        # from the underlying element tree.
        flaky = case._elem.findall("flakyFailure")
        assert len(flaky) == want.get("flaky_failures", 0), f"{key}: {len(flaky)} flakyFailure elements"
        reruns = case._elem.findall("rerunFailure")
        assert len(reruns) == want.get("rerun_failures", 0), f"{key}: {len(reruns)} rerunFailure elements"
        for part in want.get("system_out_contains", []):
            assert part in (case.system_out or ""), f"{key}: system-out lacks {part!r}"
    print(
        f"junitparser: {tests} testcases, {failures} failed, {errors} errors, "
        f"{skipped} skipped: as expected"
    )


if __name__ == "__main__":
    main()
