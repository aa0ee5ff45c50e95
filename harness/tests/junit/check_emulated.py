"""Checks the JUnit report of the shipped suite on the emulated cluster.

Run by .ci/run after `PETSET_CLUSTER=emulated cargo test -p petset --test conformance`. The
report must say it was an emulation (the `cluster.kind=emulated` property), have a testcase
per scenario file, and every scenario must have passed except those the emulation cannot run
(they need a database server), which must be skipped with that reason. So the supported
scenarios passed: none failed, none skipped for any other reason.

Usage: check_emulated.py REPORT SCENARIOS_DIR
"""

import pathlib
import sys

from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped


def main() -> None:
    report, scenarios = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    files = sorted(p for p in scenarios.rglob("*") if p.suffix in (".yaml", ".yml"))
    xml = JUnitXml.fromfile(str(report))
    cases, kinds = [], set()
    for suite in xml:
        for block in suite.iterchildren(Properties):
            for prop in block.iterchildren(Property):
                if prop.name == "cluster.kind":
                    kinds.add(prop.value)
        cases.extend(suite)
    assert kinds == {"emulated"}, f"{report}: cluster.kind is {sorted(kinds)}, not emulated"
    names = {f"{c.classname}/{c.name}" for c in cases}
    for path in files:
        relative = path.relative_to(scenarios)
        key = f"petset.{'/'.join(relative.parts[:-1])}/{path.stem}"
        assert key in names, f"{relative} has no testcase"
    passed, skipped = [], []
    for case in cases:
        name = f"{case.classname}/{case.name}"
        results = case.result
        assert not any(isinstance(r, (Failure, Error)) for r in results), f"{name} failed"
        skips = [r for r in results if isinstance(r, Skipped)]
        if skips:
            message = skips[0].message or ""
            assert "needs a database" in message, (
                f"{name} was skipped on the emulated cluster for another reason: {message!r}"
            )
            skipped.append(name)
        else:
            passed.append(name)
    assert passed, f"{report}: no scenario passed"
    print(
        f"{report}: emulated cluster; {len(passed)} scenarios passed, {len(skipped)} skipped "
        f"(they need a database server)"
    )


if __name__ == "__main__":
    main()
