"""db.get_or_404 runs a SELECT built once per model, and answers as session.get did: the
session's own object for a row it holds, 404 for none."""

import pytest
from werkzeug.exceptions import NotFound

from learnhub import db
from learnhub.accounts.models import User
from learnhub.orgunits.models import OrgUnit


def test_the_sessions_own_object_and_404_for_a_missing_row(db_session, learner):
    assert db.get_or_404(User, learner.id) is learner
    db_session.expunge(learner)
    fresh = db.get_or_404(User, learner.id)
    assert fresh is not learner
    assert (fresh.id, fresh.full_name) == (learner.id, learner.full_name)
    with pytest.raises(NotFound):
        db.get_or_404(User, 10**9)


def test_the_statement_is_built_once_per_model():
    assert db._by_primary_key(User) is db._by_primary_key(User)
    assert db._by_primary_key(User) is not db._by_primary_key(OrgUnit)
