"""Select: a mask from clicks, a box or words; the picture's embedding made once and kept with the tab's picture."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from PIL import Image

from kernel.errors import UserError
from pipelines import edges, geometry, segmenting
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.inputs import BOX, GROW, INVERT, POINTS, REFINE, TEXT, InputContext
from pipelines.models import ModelManager
from pipelines.ops.select import select_request, tab_request
from pipelines.registry import OPERATIONS
from pipelines.segmenting import EmbeddingCache
from pipelines.service import EditService
from pipelines.sessions import SessionStore
from tests import samples

SIZE = (96, 64)


@pytest.fixture(scope="module")
def service(settings) -> EditService:
    return EditService(settings, ModelManager(settings), DeviceQueue(4), None)


@pytest.fixture
def photo() -> Image.Image:
    return samples.noise(*SIZE, seed=4)


@pytest.fixture
def embeds(monkeypatch) -> list[tuple[int, int]]:
    """The sizes of the pictures the image encoder ran on (the real encoder runs; this only counts)."""
    seen: list[tuple[int, int]] = []
    real = segmenting.embed

    def counting(segmenter, image):
        seen.append(image.size)
        return real(segmenter, image)

    monkeypatch.setattr(segmenting, "embed", counting)
    return seen


def parse(item, raw, picture=None):
    ctx = InputContext(settings=None, read_upload=lambda raw: b"", picture=picture)  # type: ignore[arg-type]
    return item.parse(raw, ctx)


# ------------------------------------------------------------------ the mask


def test_a_click_gives_a_black_and_white_mask_the_size_of_the_picture(service, photo):
    result = service.run(select_request(photo, points=((40.0, 30.0, 1),)))
    assert result.image.mode == "L" and result.image.size == SIZE
    assert set(np.unique(np.asarray(result.image))) <= {0, 255}
    assert result.seed is None and result.notice is None and result.weights == "tiny"


@pytest.mark.parametrize("prompts", [
    {"points": ((10.0, 10.0, 1), (80.0, 50.0, 0))},
    {"box": (5.0, 5.0, 60.0, 40.0)},
    {"points": ((20.0, 20.0, 1),), "box": (5.0, 5.0, 60.0, 40.0)},
])
def test_clicks_to_exclude_and_boxes_work_alone_and_together(service, photo, prompts):
    result = service.run(select_request(photo, **prompts))
    assert (result.image.mode, result.image.size) == ("L", SIZE)


def test_the_same_clicks_give_the_same_mask_with_or_without_a_kept_embedding(service, photo):
    cache = EmbeddingCache()
    fresh = service.run(select_request(photo, points=((40.0, 30.0, 1),), embeddings=cache)).image
    kept = service.run(select_request(photo, points=((40.0, 30.0, 1),), embeddings=cache)).image
    assert fresh.tobytes() == kept.tobytes()


def test_the_picture_is_embedded_once_and_further_clicks_run_the_decoder_alone(service, photo, embeds):
    cache = EmbeddingCache()
    for x in (10.0, 40.0, 70.0):
        service.run(select_request(photo, points=((x, 30.0, 1),), embeddings=cache))
    assert embeds == [SIZE]
    assert cache.nbytes > 0


def test_without_a_cache_each_call_embeds_its_picture_and_nothing_is_kept(service, photo, embeds):
    """The API has no tab: each call embeds its picture once and keeps nothing after."""
    service.run(select_request(photo, points=((10.0, 10.0, 1),)))
    service.run(select_request(photo, points=((10.0, 10.0, 1),)))
    assert embeds == [SIZE, SIZE]


def test_a_picture_with_transparency_is_selected_like_any_other(service):
    result = service.run(select_request(samples.noise(*SIZE, seed=2, mode="RGBA"), box=(0, 0, 50, 50)))
    assert (result.image.mode, result.image.size) == ("L", SIZE)


# ------------------------------------------------------------------ words (SAM 3)


def test_words_run_sam3_and_give_a_mask_the_size_of_the_picture(service, photo):
    result = service.run(select_request(photo, text="the sky"))
    assert result.model_id == "facebook/sam3" and result.weights == "tiny"
    assert (result.image.mode, result.image.size) == ("L", SIZE)
    assert set(np.unique(np.asarray(result.image))) <= {0, 255}


def test_words_that_match_nothing_give_an_empty_mask_and_a_sentence_not_an_error(service, photo, monkeypatch):
    monkeypatch.setattr(segmenting, "FOUND_SCORE", 1.0)  # no score reaches it: nothing is found
    result = service.run(select_request(photo, text="a purple elephant"))
    assert result.image.getbbox() is None and result.image.size == SIZE
    assert result.notice == "Nothing matching \u201ca purple elephant\u201d was found in the picture."


def test_words_with_a_box_select_only_inside_the_box(service, photo, monkeypatch):
    monkeypatch.setattr(segmenting, "FOUND_SCORE", 0.0)  # every candidate counts as found
    result = service.run(select_request(photo, text="everything", box=(10, 10, 40, 30)))
    pixels = np.asarray(result.image)
    outside = pixels.copy()
    outside[10:30, 10:40] = 0
    assert not outside.any()


def test_each_phrase_on_the_same_picture_reuses_its_embedding(service, photo, embeds):
    cache = EmbeddingCache()
    for words in ("the sky", "all the people", "the dog"):
        service.run(select_request(photo, text=words, embeddings=cache))
    service.run(select_request(photo, points=((10.0, 10.0, 1),), embeddings=cache))  # SAM 2: its own embedding
    assert embeds == [SIZE, SIZE] and len(cache.embeddings) == 2


def test_a_model_that_cannot_do_what_is_asked_says_so(service, photo):
    with pytest.raises(UserError, match=r"SAM 2\.1 small selects by clicks and boxes, not by words"):
        service.run(select_request(photo, text="the sky", model="facebook/sam2.1-hiera-small"))
    with pytest.raises(UserError, match="SAM 3 selects by words, not by clicks"):
        service.run(select_request(photo, points=((1.0, 1.0, 1),), model="facebook/sam3"))


# ------------------------------------------------------------------ the edge, grow/shrink, invert


def test_refine_gives_a_soft_edge_only_in_a_band_around_the_hard_one(service, photo):
    request = dict(box=(20.0, 10.0, 70.0, 50.0))
    hard_mask = service.run(select_request(photo, **request)).image
    soft = np.asarray(service.run(select_request(photo, refine=True, **request)).image)
    hard = np.asarray(hard_mask)
    edge = np.asarray(geometry.grow(hard_mask, 1)) != np.asarray(geometry.shrink(hard_mask, 1))
    near = np.asarray(geometry.grow(Image.fromarray(np.uint8(edge) * 255), 3 * edges.band_width(SIZE))) > 0
    assert soft.shape == hard.shape
    assert np.array_equal(soft[~near], hard[~near])  # away from the edge nothing changes
    if edge.any():  # the tiny SAM's mask has an edge here: the matting model decided it, softly
        assert ((soft > 0) & (soft < 255)).any()


def test_the_matting_model_decides_the_band_softly_and_nothing_else(settings, photo):
    from pipelines import tiny

    root = settings.tiny_models_path
    matte = edges.LazyMatte(str(root / "vitmatte"), "cpu", prepare=lambda: tiny.ensure("vitmatte", root)).model()
    mask = Image.new("L", SIZE, 0)
    mask.paste(255, (20, 10, 70, 50))
    soft = np.asarray(edges.refine(matte, photo, mask, working_pixels=64 * 64))
    band = edges.band_width(SIZE)
    assert soft[30, 45] == 255 and soft[0, 0] == 0 and soft[:, : 20 - 3 * band].max() == 0
    assert 0 < soft[10, 45] < 255  # on the edge: the model's (a random stand-in's) call


def test_refine_keeps_the_embedding_cache_working(service, photo, embeds):
    cache = EmbeddingCache()
    for _ in range(2):
        service.run(select_request(photo, points=((30.0, 30.0, 1),), refine=True, embeddings=cache))
    assert embeds == [SIZE]


def test_the_trimap_is_sure_inside_sure_outside_and_unknown_at_the_edge():
    mask = Image.new("L", (40, 40), 0)
    mask.paste(255, (10, 10, 30, 30))
    tri = np.asarray(edges.trimap(mask, 3))
    assert tri[20, 20] == 255 and tri[0, 0] == 0 and tri[10, 20] == 128 and tri[8, 20] == 128
    assert set(np.unique(tri)) == {0, 128, 255}


def test_grow_shrink_and_invert_are_applied_to_the_mask(service, photo):
    box = dict(box=(30.0, 20.0, 60.0, 40.0))
    plain = np.asarray(service.run(select_request(photo, **box)).image) > 127
    grown = np.asarray(service.run(select_request(photo, grow=3, **box)).image) > 127
    shrunk = np.asarray(service.run(select_request(photo, grow=-3, **box)).image) > 127
    inverted = np.asarray(service.run(select_request(photo, invert=True, **box)).image) > 127
    assert (grown >= plain).all() and (shrunk <= plain).all()
    assert np.array_equal(inverted, ~plain)


def test_shrink_is_grow_of_what_is_not_selected_and_leaves_the_picture_edge_alone():
    mask = Image.new("L", (20, 20), 0)
    mask.paste(255, (0, 5, 15, 15))
    small = np.asarray(geometry.shrink(mask, 2)) > 0
    assert small[7:13, 0:13].all() and not small[5:7].any() and not small[:, 13:].any()
    assert np.array_equal(np.asarray(geometry.invert(geometry.invert(mask))), np.asarray(mask))


@pytest.mark.parametrize(("item", "raw", "message"), [
    (GROW, 500, "between -200 and 200"), (GROW, 1.5, "whole number"), (REFINE, "maybe", "true or false"),
    (INVERT, 7, "true or false"),
])
def test_bad_edge_options_are_refused_with_a_sentence(settings, item, raw, message):
    with pytest.raises(UserError, match=message):
        item.check(parse(item, raw), settings)


def test_switches_read_what_an_api_caller_sends():
    assert [parse(REFINE, raw) for raw in (True, "true", "1", 1, "no", False, None, "")] == [
        True, True, True, True, False, False, False, False]


# ------------------------------------------------------------------ bad input: a sentence, nothing run


def test_points_from_the_api_are_json_or_lists_and_labels_default_to_include():
    assert parse(POINTS, "[[10, 20, 1], [30, 40, 0]]") == ((10.0, 20.0, 1), (30.0, 40.0, 0))
    assert parse(POINTS, [[10.5, 20]]) == ((10.5, 20.0, 1),)
    assert parse(POINTS, None) is None and parse(POINTS, "") is None and parse(POINTS, []) is None


@pytest.mark.parametrize("raw", ["[[1, 2, 3]]", "[[1]]", "nonsense", "[1, 2]", '[["a", 2]]', "[[1, 2, true]]",
                                 "[[NaN, 2]]", "{}", 5])
def test_malformed_points_are_refused_with_an_example(raw):
    with pytest.raises(UserError, match=r"\[\[120, 80, 1\]\]"):
        parse(POINTS, raw)


def test_a_point_outside_the_picture_is_refused_saying_which(photo):
    with pytest.raises(UserError, match=r"Point 2 \(97, 10\) is outside the picture \(96 × 64 pixels\)"):
        parse(POINTS, [[1, 1, 1], [97, 10, 1]], photo)


def test_a_thousand_points_are_refused():
    with pytest.raises(UserError, match="1,000 points is too many; at most 100"):
        parse(POINTS, [[1, 1, 1]] * 1000)


def test_a_box_drawn_backwards_is_the_same_box_and_one_past_the_edge_is_cut(photo):
    assert parse(BOX, [60, 40, 5, 5], photo) == (5.0, 5.0, 60.0, 40.0)
    assert parse(BOX, "[[-10, 10, 500, 20]]", photo) == (0.0, 10.0, 96.0, 20.0)


@pytest.mark.parametrize("raw", [[5, 5, 5, 40], [10, 10, 10, 10], [200, 200, 300, 300]])
def test_a_box_with_no_area_on_the_picture_is_refused(photo, raw):
    with pytest.raises(UserError, match="no area inside the picture"):
        parse(BOX, raw, photo)


@pytest.mark.parametrize("raw", [[1, 2, 3], "[1, 2, 3, 4, 5]", '["a", 1, 2, 3]', "box"])
def test_a_malformed_box_is_refused(raw):
    with pytest.raises(UserError, match=r"four numbers"):
        parse(BOX, raw)


def test_words_are_trimmed_and_ten_thousand_characters_are_refused(settings):
    assert parse(TEXT, "  the   sky \n") == "the sky"
    with pytest.raises(UserError, match="10,000 characters long"):
        TEXT.check("x" * 10_000, settings)


def test_nothing_to_select_is_a_sentence_before_any_model_work(service, photo, embeds):
    for request in (select_request(photo), select_request(photo, text="   ".strip())):
        with pytest.raises(UserError, match="Click on the picture, drag a box or name what to select"):
            service.run(request)
    assert embeds == []


def test_clicks_and_words_at_once_are_refused(service, photo):
    with pytest.raises(UserError, match="not both"):
        service.run(select_request(photo, points=((1.0, 1.0, 1),), text="the sky"))


def test_a_request_built_in_code_is_checked_against_the_picture_too(service, photo):
    with pytest.raises(UserError, match="outside the picture"):
        service.run(select_request(photo, points=((500.0, 1.0, 1),)))
    with pytest.raises(UserError, match="no area"):
        service.run(select_request(photo, box=(500.0, 1.0, 600.0, 30.0)))


def test_a_picture_at_the_pixel_limit_gets_a_mask_of_its_full_size(service, settings):
    wide = Image.new("RGB", (settings.max_input_pixels // 2000, 2000), "gray")
    result = service.run(select_request(wide, points=((10.0, 10.0, 1),)))
    assert result.image.size == wide.size and result.image.mode == "L"


# ------------------------------------------------------------------ a free operation


def test_select_is_free_and_takes_no_seed():
    op = OPERATIONS["select"]
    assert op.price == 0 and not op.uses_seed and op.output_mode == "L"
    assert [item.name for item in op.inputs if item.on_page] == ["model"]


# ------------------------------------------------------------------ kept with the tab, dropped with it


def test_a_tabs_embedding_counts_in_its_memory_and_goes_with_the_tab(service, photo):
    store = SessionStore(max_history=5, idle_s=3600)
    session = store.get("tab-1")
    session.start(photo)
    before = store.nbytes()
    service.run(select_request(photo, points=((5.0, 5.0, 1),), embeddings=session.current.embeddings))
    assert store.nbytes() > before
    kept = weakref.ref(next(iter(session.current.embeddings.embeddings.values())))
    del session
    store.drop("tab-1")
    gc.collect()
    assert len(store) == 0 and kept() is None  # nothing else held on to it: not the model, not the queue


def test_the_contract_tests_see_select_like_every_operation():
    request = EditRequest("select", samples.noise(*SIZE), **OPERATIONS["select"].examples)
    assert request.points == [[32, 24, 1]]


def test_the_pages_select_tool_sends_raw_values_and_the_tabs_picture_keeps_its_embedding(service, settings, photo,
                                                                                         embeds):
    store = SessionStore(max_history=5, idle_s=3600)
    session = store.get("tab-1")
    session.start(photo)
    entry = session.current
    ctx = InputContext(settings, read_upload=lambda raw: b"", picture=entry.image)
    for clicks in ("[[10, 10, 1]]", [[10, 10, 1], [50, 30, 0]]):
        result = service.run(tab_request({"points": clicks}, ctx, entry.embeddings))
        assert (result.image.mode, result.image.size) == ("L", SIZE)
    assert embeds == [SIZE] and store.nbytes() > photo.width * photo.height * 3
    with pytest.raises(UserError, match="outside the picture"):
        tab_request({"points": "[[200, 10, 1]]"}, ctx, entry.embeddings)
