"""Checks a cargo-nextest run of the conformance binary with no cluster.

Run by .ci/run after `cargo nextest run -p petset --test conformance --profile ci`. With no
cluster, nextest must have run nothing and skipped every scenario: its summary line says
"0 passed" and as many skipped as there are scenario files, no test line says PASS, and its
JUnit report (target/nextest/ci/junit.xml) holds no passed, failed or errored testcase.

Usage: check_nextest.py NEXTEST_OUTPUT NEXTEST_JUNIT SCENARIOS_DIR
"""

import pathlib
import re
import sys

from junitparser import Error, Failure, JUnitXml, Skipped


def main() -> None:
    output, junit, scenarios = (pathlib.Path(a) for a in sys.argv[1:4])
    files = sorted(p for p in scenarios.rglob("*") if p.suffix in (".yaml", ".yml"))
    text = output.read_text()
    passes = [line for line in text.splitlines() if re.match(r"\s*PASS \[", line)]
    assert not passes, (
        f"nextest passed {len(passes)} scenarios with no cluster, e.g. {passes[:3]}"
    )
    summary = re.search(r"Summary \[.*\]\s+(\d+) tests? run: (\d+) passed.*?(\d+) skipped", text)
    assert summary, f"no nextest summary line in {output}"
    run, passed, skipped = (int(g) for g in summary.groups())
    assert (run, passed) == (0, 0), f"nextest ran {run} and passed {passed} with no cluster"
    assert skipped == len(files), (
        f"nextest skipped {skipped} of {len(files)} scenario files: {summary.group(0)}"
    )
    if junit.exists():
        for suite in JUnitXml.fromfile(str(junit)):
            for case in suite:
                results = case.result
                assert results and all(isinstance(r, Skipped) for r in results), (
                    f"{case.name} is in nextest's JUnit as "
                    f"{[type(r).__name__ for r in results] or 'passed'}"
                )
                assert not any(isinstance(r, (Failure, Error)) for r in results)
    print(f"{output}: nextest ran 0 scenarios and skipped all {skipped} with no cluster")


if __name__ == "__main__":
    main()
