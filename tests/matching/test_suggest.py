"""The scoring function: pure, weighted in one place, every reason in words (R-MATCH-1)."""

from matching.suggest import WEIGHTS, MenteeNeeds, MentorOffer, Names, explain, fit_out_of_100, mask_of, rank, score

NAMES = Names(sectors={1: "Energy", 2: "Rail"}, languages={5: "French", 6: "English"}, countries={"FR": "France"})


def needs(**kw):
    base = {"mentee_id": 1, "sector_id": 1, "expertise_mask": mask_of([10, 11, 12]), "language_id": 5, "country": "FR"}
    return MenteeNeeds(**{**base, **kw})


def offer(mentor_id=100, **kw):
    base = {"sector_id": 2, "expertise_mask": 0, "language_mask": mask_of([6]), "country": "GB"}
    base |= {"capacity": 3, "free_places": 2}
    return MentorOffer(mentor_id=mentor_id, **{**base, **kw})


def test_nothing_in_common_scores_only_the_free_places():
    s = score(needs(), offer())
    assert s.score == round(WEIGHTS["places"] * 2 / 3, 4)
    assert explain(s, NAMES) == []


def test_each_reason_is_worded():
    s = score(
        needs(),
        offer(
            sector_id=1,
            expertise_mask=mask_of([10, 11]),
            language_mask=mask_of([5, 6]),
            country="FR",
            capacity=2,
            free_places=1,
        ),
    )
    assert explain(s, NAMES) == ["same sector", "2 of your 3 areas", "speaks French", "also in France", "1 place left"]
    # R-MATCH-3: a coordinator (and the mentor of a proposed pairing) read the same reasons about the mentee.
    assert explain(s, NAMES, to_mentee=False)[1] == "2 of the mentee's 3 areas"
    expected = WEIGHTS["sector"] + WEIGHTS["expertise"] * 2 / 3 + WEIGHTS["language"] + WEIGHTS["country"]
    assert s.score == round(expected + WEIGHTS["places"] * 1 / 2, 4)


def test_a_better_fit_ranks_higher():
    a = offer(1, sector_id=1)
    b = offer(2, expertise_mask=mask_of([10, 11, 12]))
    c = offer(3)
    assert [s.mentor_id for s in rank(needs(), [c, a, b])] == [2, 1, 3]


def test_full_and_excluded_mentors_are_never_suggested():
    # R-MATCH-2 capacity; R-MATCH-7 former partners and recent declines
    full = offer(1, sector_id=1, free_places=0)
    former = offer(2, sector_id=1)
    other = offer(3)
    assert [s.mentor_id for s in rank(needs(), [full, former, other], exclude={2})] == [3]


def test_ties_break_by_mentor_id_so_results_are_stable():
    assert [s.mentor_id for s in rank(needs(), [offer(9), offer(4), offer(7)], limit=2)] == [4, 7]


def test_a_mentee_with_no_preferences_still_gets_suggestions():
    blank = MenteeNeeds(mentee_id=1, sector_id=None, expertise_mask=0, language_id=None, country="")
    assert len(rank(blank, [offer(1), offer(2)])) == 2


def test_scores_read_on_a_scale_of_0_to_100():
    # R-MATCH-3: the admin and the members read the fit on a stated scale
    assert fit_out_of_100(0) == 0
    assert fit_out_of_100(sum(WEIGHTS.values())) == 100
    assert fit_out_of_100(sum(WEIGHTS.values()) / 2) == 50
