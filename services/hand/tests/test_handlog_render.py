"""Every row of the hand-log table (spec poker §7), rendered by the pure renderers."""

from __future__ import annotations

import pytest

from angzarr_client.testing import uuid_for
from hand.handlog.render import HandInfo, money, pot_name, render, signed_money
from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import (
    AI,
    ALL_IN,
    BET,
    CALL,
    CHECK,
    DRAW,
    FIVE_CARD_DRAW,
    FLOP,
    FOLD,
    HUMAN,
    OMAHA,
    PAIR,
    PREFLOP,
    RAISE,
    RIVER,
    ROYAL_FLUSH,
    STRAIGHT,
    TEXAS_HOLDEM,
    TURN,
    Currency,
    HandRanking,
)
from poker_rules.cards import parse_cards, to_protos

ALICE, BOB, CAROL = (uuid_for(f"log {n}").bytes for n in ("alice", "bob", "carol"))
TABLE = uuid_for("log table").bytes
HAND = uuid_for("log hand").bytes
STRANGER = bytes.fromhex("0123456789abcdef0123456789abcdef")


class FixedNames:
    players = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol"}
    tables = {TABLE: "Main"}
    hands = {HAND: HandInfo(TABLE, 7, ((0, ALICE), (3, BOB), (5, CAROL)))}

    def player(self, root: bytes) -> str:
        return self.players.get(root) or "Player_" + root.hex()[:8]

    def table(self, root: bytes) -> str:
        return self.tables.get(root) or "Table_" + root.hex()[:8]

    def hand(self, root: bytes) -> HandInfo | None:
        return self.hands.get(root)


def c(text: str):
    return to_protos(parse_cards(text))


def chips(n: int) -> Currency:
    return Currency(amount=n, currency_code="CHIPS")


def lines(event, domain: str, root: bytes = b"") -> list[str]:
    return render(event, FixedNames(), root, domain=domain)


# -- formatting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "text"), [(0, "$0"), (5, "$5"), (1000, "$1,000"), (1234567, "$1,234,567"),
                                              (-150, "-$150"), (-1500, "-$1,500")])
def test_money(amount, text):
    assert money(amount) == text


def test_signed_money():
    assert [signed_money(a) for a in (300, -200, 0, 1000)] == ["+$300", "-$200", "±$0", "+$1,000"]


def test_pot_names():
    assert [pot_name(p) for p in ("main", "", "side-1", "side-12")] == [
        "the main pot", "the main pot", "side pot 1", "side pot 12"
    ]


# -- player rows ------------------------------------------------------------------------------------


def test_player_registered():
    assert lines(player_pb2.PlayerRegistered(display_name="Alice", player_type=HUMAN), "player", ALICE) == [
        "Alice registered (Human)"
    ]
    assert lines(player_pb2.PlayerRegistered(display_name="Robo", player_type=AI), "player", BOB) == [
        "Robo registered (AI)"
    ]


def test_deposits_and_withdrawals():
    deposit = player_pb2.FundsDeposited(amount=chips(1000), new_balance=chips(1500))
    withdraw = player_pb2.FundsWithdrawn(amount=chips(300), new_balance=chips(1200))
    assert lines(deposit, "player", ALICE) == ["Alice deposits $1,000 (bankroll $1,500)"]
    assert lines(withdraw, "player", ALICE) == ["Alice withdraws $300 (bankroll $1,200)"]


def test_reservations():
    assert lines(player_pb2.FundsReserved(amount=chips(500), table_root=TABLE), "player", ALICE) == [
        "Alice reserves $500 for Main"
    ]
    assert lines(player_pb2.FundsReleased(amount=chips(510), table_root=TABLE), "player", BOB) == [
        "Bob releases $510 from Main"
    ]


def test_transfers_win_or_lose_in_a_numbered_hand():
    won = player_pb2.FundsTransferred(amount=chips(300), hand_root=HAND, table_root=TABLE, new_balance=chips(1300))
    lost = player_pb2.FundsTransferred(amount=chips(-150), hand_root=HAND, table_root=TABLE, new_balance=chips(850))
    assert lines(won, "player", ALICE) == ["Alice wins $300 in hand #7 at Main (bankroll $1,300)"]
    assert lines(lost, "player", BOB) == ["Bob loses $150 in hand #7 at Main (bankroll $850)"]


def test_sitting_out_and_back():
    assert lines(player_pb2.PlayerSittingOut(table_root=TABLE), "player", ALICE) == ["Alice sits out at Main"]
    assert lines(player_pb2.PlayerReturningToPlay(table_root=TABLE), "player", ALICE) == ["Alice returns to Main"]
    assert lines(table_pb2.PlayerSatOut(player_root=BOB), "table", TABLE) == ["Bob is sitting out"]
    assert lines(table_pb2.PlayerSatIn(player_root=BOB), "table", TABLE) == ["Bob is back in"]


def test_action_requested_renders_nothing():
    assert lines(player_pb2.ActionRequested(player_root=ALICE, amount_to_call=10), "player", ALICE) == []


# -- table rows -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "name"), [(TEXAS_HOLDEM, "No-limit Texas Hold'em"), (OMAHA, "Pot-limit Omaha"),
                                               (FIVE_CARD_DRAW, "No-limit Five-card draw")])
def test_table_created(variant, name):
    created = table_pb2.TableCreated(table_name="Main", game_variant=variant, small_blind=5, big_blind=10,
                                     min_buy_in=200, max_buy_in=1000, max_players=9, action_timeout_seconds=30)
    assert lines(created, "table", TABLE) == [
        f"Table Main created: {name}, blinds $5/$10, buy-in $200-$1,000, 9 seats, 30s to act"
    ]


def test_joining_and_leaving():
    assert lines(table_pb2.PlayerJoined(player_root=ALICE, seat_position=3, buy_in_amount=500, stack=500),
                 "table", TABLE) == ["Alice sits down at Main seat 3 with $500"]
    assert lines(table_pb2.PlayerLeft(player_root=BOB, seat_position=1, chips_cashed_out=1250), "table", TABLE) == [
        "Bob leaves Main seat 1 with $1,250"
    ]


def test_hand_started_lists_the_seats_with_button_and_blinds():
    started = table_pb2.HandStarted(
        hand_root=HAND, hand_number=7, dealer_position=5, small_blind_position=0, big_blind_position=3,
        active_players=[table_pb2.SeatSnapshot(position=p, player_root=r, stack=s)
                        for p, r, s in ((3, BOB, 45), (0, ALICE, 1000), (5, CAROL, 2500))],
        small_blind=5, big_blind=10,
    )
    assert lines(started, "table", TABLE) == [
        "",
        "=== Main hand #7 ===",
        "Button seat 5, blinds $5/$10",
        "  seat 0: Alice $1,000 [SB]",
        "  seat 3: Bob $45 [BB]",
        "  seat 5: Carol $2,500 [D]",
    ]


def test_heads_up_button_is_also_the_small_blind():
    started = table_pb2.HandStarted(
        hand_root=HAND, hand_number=1, dealer_position=0, small_blind_position=0, big_blind_position=1,
        active_players=[table_pb2.SeatSnapshot(position=0, player_root=ALICE, stack=500),
                        table_pb2.SeatSnapshot(position=1, player_root=BOB, stack=500)],
        small_blind=5, big_blind=10,
    )
    assert lines(started, "table", TABLE)[3:] == ["  seat 0: Alice $500 [D] [SB]", "  seat 1: Bob $500 [BB]"]


def test_hand_ended_in_seat_order_with_zero_changes():
    ended = table_pb2.HandEnded(hand_root=HAND, stack_changes={CAROL.hex(): -200, ALICE.hex(): 300, BOB.hex(): 0})
    assert lines(ended, "table", TABLE) == ["Hand #7 settled: Alice +$300, Bob ±$0, Carol -$200"]


# -- hand rows --------------------------------------------------------------------------------------


def test_cards_dealt():
    dealt = hand_pb2.CardsDealt(game_variant=TEXAS_HOLDEM, player_cards=[
        hand_pb2.PlayerHoleCards(player_root=ALICE, cards=c("3s 4c")),
        hand_pb2.PlayerHoleCards(player_root=BOB, cards=c("6c 7h")),
    ])
    assert lines(dealt, "hand", HAND) == ["Dealt No-limit Texas Hold'em:", "  Alice: [3s 4c]", "  Bob: [6c 7h]"]


def test_blinds():
    assert lines(hand_pb2.BlindPosted(player_root=ALICE, blind_type="small", amount=5, player_stack=495),
                 "hand", HAND) == ["  Alice posts the small blind $5"]
    assert lines(hand_pb2.BlindPosted(player_root=BOB, blind_type="big", amount=7, player_stack=0),
                 "hand", HAND) == ["  Bob posts the big blind $7 and is all-in"]


@pytest.mark.parametrize(("action", "amount", "text"), [
    (FOLD, 0, "  Alice folds"),
    (CHECK, 0, "  Alice checks"),
    (CALL, 5, "  Alice calls $5 (pot $1,200)"),
    (BET, 20, "  Alice bets $20 (pot $1,200)"),
    (RAISE, 1000, "  Alice raises to $1,000 (pot $1,200)"),
    (ALL_IN, 495, "  Alice is all-in ($495) (pot $1,200)"),
])
def test_actions(action, amount, text):
    taken = hand_pb2.ActionTaken(player_root=ALICE, action=action, amount=amount, pot_total=1200)
    assert lines(taken, "hand", HAND) == [text]


@pytest.mark.parametrize(("phase", "name"), [(PREFLOP, "Preflop"), (FLOP, "Flop"), (TURN, "Turn"), (RIVER, "River"),
                                             (DRAW, "Draw")])
def test_betting_round_complete(phase, name):
    done = hand_pb2.BettingRoundComplete(completed_phase=phase, pot_total=1500)
    assert lines(done, "hand", HAND) == [f"  -- {name} betting done, pot $1,500 --"]


def test_community_cards():
    flop = hand_pb2.CommunityCardsDealt(cards=c("5c Kd Ad"), phase=FLOP, all_community_cards=c("5c Kd Ad"))
    turn = hand_pb2.CommunityCardsDealt(cards=c("Ts"), phase=TURN, all_community_cards=c("5c Kd Ad Ts"))
    river = hand_pb2.CommunityCardsDealt(cards=c("2d"), phase=RIVER, all_community_cards=c("5c Kd Ad Ts 2d"))
    assert lines(flop, "hand", HAND) == ["*** FLOP *** [5c Kd Ad]"]
    assert lines(turn, "hand", HAND) == ["*** TURN *** [5c Kd Ad] [Ts]"]
    assert lines(river, "hand", HAND) == ["*** RIVER *** [5c Kd Ad Ts] [2d]"]


def test_draws():
    assert lines(hand_pb2.DrawCompleted(player_root=BOB, cards_discarded=2, cards_drawn=2), "hand", HAND) == [
        "  Bob draws 2"
    ]
    assert lines(hand_pb2.DrawCompleted(player_root=ALICE), "hand", HAND) == ["  Alice stands pat"]


def test_showdown_reveal_and_muck():
    assert lines(hand_pb2.ShowdownStarted(players_to_show=[BOB, ALICE]), "hand", HAND) == ["*** SHOWDOWN ***"]
    revealed = hand_pb2.CardsRevealed(player_root=ALICE, cards=c("3s 4c"),
                                      ranking=HandRanking(rank_type=STRAIGHT, score=5570560))
    royal = hand_pb2.CardsRevealed(player_root=BOB, cards=c("As Ks"), ranking=HandRanking(rank_type=ROYAL_FLUSH))
    assert lines(revealed, "hand", HAND) == ["  Alice shows [3s 4c] (Straight)"]
    assert lines(royal, "hand", HAND) == ["  Bob shows [As Ks] (Royal Flush)"]
    assert lines(hand_pb2.CardsMucked(player_root=CAROL), "hand", HAND) == ["  Carol mucks"]


def test_pots_awarded_per_winner():
    awarded = hand_pb2.PotAwarded(winners=[
        hand_pb2.PotWinner(player_root=ALICE, amount=200, pot_type="main", winning_hand=HandRanking(rank_type=PAIR)),
        hand_pb2.PotWinner(player_root=ALICE, amount=1200, pot_type="side-1",
                           winning_hand=HandRanking(rank_type=PAIR)),
        hand_pb2.PotWinner(player_root=BOB, amount=15, pot_type="main"),
    ])
    assert lines(awarded, "hand", HAND) == [
        "  Alice wins $200 from the main pot with Pair",
        "  Alice wins $1,200 from side pot 1 with Pair",
        "  Bob wins $15 from the main pot",
    ]


def test_hand_complete_lists_the_stacks():
    complete = hand_pb2.HandComplete(hand_number=7, final_stacks=[
        hand_pb2.PlayerStackSnapshot(player_root=ALICE, stack=1300, position=0),
        hand_pb2.PlayerStackSnapshot(player_root=BOB, stack=0, position=3),
    ])
    assert lines(complete, "hand", HAND) == ["Stacks after hand #7: Alice $1,300, Bob $0"]


def test_timeouts():
    assert lines(hand_pb2.PlayerTimedOut(player_root=ALICE, default_action=FOLD), "hand", HAND) == [
        "  Alice ran out of time (folds)"
    ]
    assert lines(hand_pb2.PlayerTimedOut(player_root=BOB, default_action=CHECK), "hand", HAND) == [
        "  Bob ran out of time (checks)"
    ]


# -- fallbacks --------------------------------------------------------------------------------------


def test_unknown_roots_read_as_short_hex_names():
    assert lines(player_pb2.FundsReserved(amount=chips(5), table_root=STRANGER), "player", STRANGER) == [
        "Player_01234567 reserves $5 for Table_01234567"
    ]


def test_an_unknown_hand_has_no_number():
    other = uuid_for("another hand").bytes
    lost = player_pb2.FundsTransferred(amount=chips(-5), hand_root=other, table_root=TABLE, new_balance=chips(5))
    assert lines(lost, "player", ALICE) == ["Alice loses $5 in hand #? at Main (bankroll $5)"]


def test_any_other_event_is_marked_unrendered():
    assert lines(table_pb2.ChipsAdded(player_root=ALICE, amount=5), "table", TABLE) == [
        "[unrendered examples.ChipsAdded]"
    ]
    # A known message from a domain it does not belong to has no row either.
    assert lines(hand_pb2.CardsMucked(player_root=ALICE), "table", TABLE) == ["[unrendered examples.CardsMucked]"]
