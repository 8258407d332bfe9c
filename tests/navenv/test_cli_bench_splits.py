"""`navenv bench --splits` takes climbing splits only, and says so when given a room split."""

import pytest

from benchmarks.main_job import climbing_splits
from navenv.cli import BENCH_SPLITS, build_parser, main


def test_bench_splits_are_the_climbing_splits():
    # spelled out in navenv/cli.py for a fast --help; must follow scenes.splits
    assert list(BENCH_SPLITS) == climbing_splits()
    assert not any(s.startswith("rooms") for s in BENCH_SPLITS)


def test_bench_help_lists_no_room_split(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = capsys.readouterr().out
    assert "test_novel_holds" in out and "rooms_" not in out


@pytest.mark.parametrize("split", ["rooms_train", "rooms_test_novel", "nope"])
def test_room_split_is_refused_at_parsing(split, capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--splits", "train", split])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"'{split}'" in err and "the bench runs climbing splits" in err
    assert all(s in err for s in BENCH_SPLITS)
    if split.startswith("rooms_"):
        assert "room split" in err


def test_climbing_splits_parse():
    args = build_parser().parse_args(["bench", "--splits", "train", "val", "test_iid"])
    assert args.splits == ["train", "val", "test_iid"]
    assert build_parser().parse_args(["bench"]).splits is None
