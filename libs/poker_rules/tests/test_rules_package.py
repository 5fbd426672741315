"""The shared kernel stays pure: importing it loads no gRPC and no framework code."""

import subprocess
import sys

import poker_rules


def test_importing_poker_rules_loads_no_grpc_or_framework():
    code = (
        "import sys, poker_rules, poker_rules.cards, poker_rules.deck, poker_rules.evaluator, "
        "poker_rules.pots, poker_rules.roots\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('grpc', 'angzarr_client', "
        "'angzarr_coordinator'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_package_reexports_its_public_surface():
    for name in poker_rules.__all__:
        assert getattr(poker_rules, name) is not None
    assert poker_rules.parse_card("As") == poker_rules.Card(14, 4)
