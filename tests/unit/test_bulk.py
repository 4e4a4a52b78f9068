"""The cyclic collector is paused while a large answer is built, and resumed when the last answer under
way is done; a collector already paused by someone else stays paused."""

from __future__ import annotations

import gc

from service.bulk import cycle_collection_paused


def test_paused_while_under_way_and_resumed_after_the_last():
    assert gc.isenabled()
    with cycle_collection_paused():
        assert not gc.isenabled()
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_error():
    try:
        with cycle_collection_paused():
            raise ValueError("the answer failed")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused():
    gc.disable()
    try:
        with cycle_collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
