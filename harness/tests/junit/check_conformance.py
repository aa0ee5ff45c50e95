"""Checks the JUnit report the conformance run wrote (reports/junit.xml) with junitparser.

Run by .ci/run after `cargo test --workspace`. Without a cluster (the report's
cluster.context property is "none"), every scenario must be a skipped testcase whose message
gives the reason and the ways to get a cluster; with one, the report must at least be
complete (a testcase per scenario file).

Usage: check_conformance.py REPORT SCENARIOS_DIR
"""

import pathlib
import sys

from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped


def main() -> None:
    report, scenarios = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    files = sorted(p for p in scenarios.rglob("*") if p.suffix in (".yaml", ".yml"))
    xml = JUnitXml.fromfile(str(report))
    cases, contexts = [], set()
    for suite in xml:
        for block in suite.iterchildren(Properties):
            for prop in block.iterchildren(Property):
                if prop.name == "cluster.context":
                    contexts.add(prop.value)
        for case in suite:
            cases.append(case)
    names = {f"{c.classname}/{c.name}" for c in cases}
    for path in files:
        relative = path.relative_to(scenarios)
        area = "/".join(relative.parts[:-1])
        key = f"petset.{area}/{path.stem}"
        assert key in names, f"{relative} has no testcase (have {sorted(names)})"
    if contexts == {"none"}:
        for case in cases:
            results = case.result
            assert not any(isinstance(r, (Failure, Error)) for r in results), (
                f"{case.classname}/{case.name} failed without a cluster"
            )
            skipped = [r for r in results if isinstance(r, Skipped)]
            assert skipped, f"{case.classname}/{case.name} was not skipped without a cluster"
            message = skipped[0].message or ""
            assert "no Kubernetes cluster" in message and "PETSET_CLUSTER" in message, (
                f"{case.classname}/{case.name}: skip reason {message!r} does not say why and how"
            )
        print(f"{report}: no cluster; {len(cases)} scenarios skipped with the reason")
    else:
        print(f"{report}: cluster {sorted(contexts)}; {len(cases)} scenarios reported")


if __name__ == "__main__":
    main()
