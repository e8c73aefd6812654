"""Restyle and background removal limited to a selection (a mask): outside it, nothing of the picture changes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kernel.errors import UserError
from pipelines.base import EditRequest
from pipelines.batcher import DeviceQueue
from pipelines.models import ModelManager
from pipelines.service import EditService
from tests import samples

SIZE = (64, 48)


@pytest.fixture(scope="module")
def service(settings) -> EditService:
    return EditService(settings, ModelManager(settings), DeviceQueue(4), None)


def selection(box=(20, 12, 44, 36), size=SIZE) -> Image.Image:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return mask


def test_restyle_in_a_region_leaves_every_pixel_outside_it_as_it_was(service):
    photo = samples.noise(*SIZE, seed=1)
    result = np.asarray(service.run(EditRequest("restyle", photo, "oil painting", mask=selection(), steps=2,
                                                seed=3)).image)
    original = np.asarray(photo)
    outside = np.asarray(selection()) == 0
    assert np.array_equal(result[outside], original[outside])
    assert not np.array_equal(result[20:30, 26:38], original[20:30, 26:38])  # inside: restyled


def test_background_removal_keeps_only_the_selected_subject(service):
    photo = samples.noise(*SIZE, seed=1)
    whole = np.asarray(service.run(EditRequest("remove_background", photo)).image)[..., 3]
    kept = np.asarray(service.run(EditRequest("remove_background", photo, mask=selection())).image)[..., 3]
    far = np.ones(kept.shape, bool)
    far[8:40, 16:48] = False  # the selection grown by more than the room left for the matte's edge
    assert not kept[far].any()
    assert np.array_equal(kept[12:36, 20:44], whole[12:36, 20:44])  # inside: the model's own matte


@pytest.mark.parametrize("op_id", ["restyle", "remove_background"])
def test_an_empty_or_misfit_mask_is_refused_in_a_sentence(service, op_id):
    photo = samples.noise(*SIZE, seed=1)
    with pytest.raises(UserError, match="empty"):
        service.run(EditRequest(op_id, photo, "oil painting", mask=Image.new("L", SIZE, 0), steps=2))
    with pytest.raises(UserError, match="same size"):
        service.run(EditRequest(op_id, photo, "oil painting", mask=selection(size=(32, 24)), steps=2))
