"""DATABASE_POOL_SIZE: each app process's connection pool, so that every gunicorn thread has a
connection (docs/deploy.md); from the environment like every LEARNHUB_* setting."""

import pytest

from learnhub import config, db


def test_the_pool_size_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEARNHUB_DATABASE_POOL_SIZE", "16")
    assert config.from_environment()["DATABASE_POOL_SIZE"] == "16"
    options = db.pool_options({"DATABASE_POOL_SIZE": "16"})
    assert options == {"pool_size": 16, "max_overflow": 4}
    engine = db.make_engine(f"sqlite:///{tmp_path / 'pool.sqlite'}", **options)
    try:
        assert engine.pool.size() == 16
        assert engine.pool._max_overflow == 4
    finally:
        engine.dispose()


def test_without_a_pool_size_sqlalchemys_defaults_stay(tmp_path):
    assert db.pool_options({}) == {}
    assert db.pool_options({"DATABASE_POOL_SIZE": None}) == {}
    engine = db.make_engine(f"sqlite:///{tmp_path / 'pool.sqlite'}")
    try:
        assert engine.pool.size() == 5
    finally:
        engine.dispose()


@pytest.mark.parametrize("bad", ["0", "-3", "many"])
def test_a_nonsense_pool_size_is_refused_at_start(bad):
    with pytest.raises(ValueError, match="DATABASE_POOL_SIZE"):
        db.pool_options({"DATABASE_POOL_SIZE": bad})


@pytest.mark.parametrize("size", [1, 2, 3, 4, 8, 16])
def test_every_answer_thread_has_a_connection_beyond_the_pool(size):
    """A worker runs --threads ordinary threads and serving.ANSWER_THREADS answer threads; the
    pool is sized to --threads (docs/deploy.md). Its overflow must hold the answer threads, or a
    save waits for a connection held by a start or a submit (with 3 threads and no overflow, a
    SQLite exam's saves sent during the submit wave had a p99 of 8.6 s: bench B1, 2026-12-03)."""
    from learnhub import serving

    options = db.pool_options({"DATABASE_POOL_SIZE": str(size)})
    assert options["pool_size"] == size
    assert options["max_overflow"] >= serving.ANSWER_THREADS
    assert options["max_overflow"] >= size // 4
