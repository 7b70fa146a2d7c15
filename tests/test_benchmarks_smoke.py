"""The benchmarks reach into the provider's internals (a page parser, the row builders, the client's
listing): run the quick ones on a tiny account so a refactor that breaks them fails here, not in `make bench`
(an export diagnosis once failed to import a name that had moved)."""

from __future__ import annotations

from benchmarks import export_stages, listing_cpu


def test_export_stage_diagnosis_runs(sandbox):
    result = export_stages.run(sandbox, numbers=300, log=lambda *_: None)
    assert result["numbers"] == 300
    assert result["stages"]


def test_listing_cpu_variants_read_the_same_numbers(sandbox):
    sandbox.admin.reset(owned_numbers=300)
    result = listing_cpu.measure(sandbox, pages=3, rounds=1, variants=("bare", "client", "client_pages"))
    assert set(result["numbers_read"].values()) == {300}
    assert set(result["ratio_to_bare"]) == {"bare", "client", "client_pages"}
