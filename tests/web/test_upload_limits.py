"""What Gradio's upload route lets a caller leave in the RAM upload folder: a quota per address for guests, a
cap on the folder, unclaimed uploads swept, nothing left by a request that fails, and no other route writing."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.routing import Mount

from tests.conftest import LiveApp, make_settings, serve_app
from web.upload_quota import AddressQuota, OverQuota

KB, MB = 1000, 1000 * 1000


@pytest.fixture(scope="module")
def limited(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    """Guests may upload 3 files or 1 MB per address per 10 minutes; unclaimed uploads go after 2 s. One proxy of
    ours stands in front (TRUSTED_PROXY_HOPS=1), so each test is its own client address by X-Forwarded-For."""
    yield from serve_app(make_settings(
        tmp_path_factory.mktemp("upload-limits"), tiny_models, max_upload_mb=1, upload_folder_mb=100,
        anonymous_upload_files=3, anonymous_upload_mb=1, anonymous_upload_window_s=600, upload_unclaimed_s=2,
        trusted_proxies="127.0.0.1", trusted_proxy_hops=1,
    ))


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory, tiny_models) -> Iterator[LiveApp]:
    """The whole upload folder may hold 1 MB; nothing is swept during a test."""
    yield from serve_app(make_settings(
        tmp_path_factory.mktemp("upload-folder"), tiny_models, max_upload_mb=1, upload_folder_mb=1,
        upload_unclaimed_s=600,
    ))


def upload(live: LiveApp, size: int, *, address: str = "", key: str = "", name: str = "a.png") -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.post(live.url + "gradio_api/upload", files={"files": (name, b"\x89PNG" + b"x" * (size - 4),
                                                                       "image/png")}, headers=headers, timeout=60)


def entries(live: LiveApp) -> set[Path]:
    return set(live.studio.upload_root.iterdir())


def files_under(folders: set[Path]) -> list[Path]:
    return [path for folder in folders for path in folder.rglob("*") if path.is_file()]


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# ------------------------------------------------------------------ the quota for guests


def test_a_guest_over_the_file_quota_gets_429_and_nothing_is_written(limited):
    for _ in range(3):
        assert upload(limited, 10 * KB, address="10.1.0.1").status_code == 200
    before = entries(limited)
    answer = upload(limited, 10 * KB, address="10.1.0.1")
    assert answer.status_code == 429
    assert 0 < int(answer.headers["Retry-After"]) <= 600
    assert answer.text.startswith("Without signing in, an address may upload 3 files or 1 MB per 10 minutes")
    assert entries(limited) <= before  # no folder, no file for the refused request
    assert upload(limited, 10 * KB, address="10.1.0.2").status_code == 200  # another address has its own quota


def test_a_guest_over_the_byte_quota_is_stopped_and_the_part_written_deleted(limited):
    assert upload(limited, 600 * KB, address="10.2.0.1").status_code == 200
    before = entries(limited)
    answer = upload(limited, 600 * KB, address="10.2.0.1")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert entries(limited) <= before


def test_signed_in_callers_are_not_held_to_the_guest_quota(limited):
    key = limited.api_key()
    for _ in range(3):
        assert upload(limited, 10 * KB, address="10.3.0.1").status_code == 200
    assert upload(limited, 10 * KB, address="10.3.0.1").status_code == 429
    for _ in range(6):  # same address, signed in: more files and bytes than a guest's quota
        assert upload(limited, 500 * KB, address="10.3.0.1", key=key).status_code == 200


def test_the_quota_window_starts_with_the_first_upload():
    now = [0.0]
    quota = AddressQuota(files=2, size=10 * MB, window_s=600, clock=lambda: now[0])
    for _ in range(2):
        quota.open("a").settle(1, 1000)
    now[0] = 100.0
    with pytest.raises(OverQuota) as over:
        quota.open("a")
    assert over.value.retry_after_s == 500
    quota.open("b").settle(1, 1000)  # per address
    now[0] = 600.0
    quota.open("a").settle(1, 1000)  # a new window


# ------------------------------------------------------------------ the folder's cap, failures, the sweep


def test_an_upload_past_the_folders_cap_gets_503_and_leaves_nothing(small_folder):
    key = small_folder.api_key()  # signed in: no quota, only the folder's cap
    first = upload(small_folder, 600 * KB, key=key)
    assert first.status_code == 200
    before = entries(small_folder)
    answer = upload(small_folder, 600 * KB, key=key)
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.text.startswith("The server holds as many uploads as it can right now; please try again in")
    assert entries(small_folder) <= before
    assert Path(first.json()[0]).is_file()  # what was there stays until it is read or swept


def test_unclaimed_uploads_are_swept(limited):
    answer = upload(limited, 10 * KB, address="10.4.0.1")
    assert answer.status_code == 200
    path = answer.json()[0]
    assert Path(path).is_file() and path in gradio_uploads(limited)
    request_folder = Path(path).parent.parent
    assert wait_for(lambda: not request_folder.exists()), "the unclaimed upload is still there"
    assert wait_for(lambda: path not in gradio_uploads(limited)), "Gradio still lists the deleted upload"


def gradio_uploads(live: LiveApp) -> set[str]:
    """Gradio's own list of uploads (Blocks.upload_file_set), which its delete_cache walks."""
    gradio = next(route.app for route in live.app.routes if isinstance(route, Mount))
    return gradio.get_blocks().upload_file_set


def test_a_body_past_its_limit_leaves_nothing(limited):
    before = entries(limited)
    answer = httpx.post(limited.url + "gradio_api/upload", timeout=60,
                        headers={"Authorization": f"Bearer {limited.api_key()}",
                                 "Content-Type": "multipart/form-data; boundary=cut"},
                        content=chunked_form("cut", 3 * MB))
    assert answer.status_code == 413
    assert not files_under(entries(limited) - before)
    assert entries(limited) <= before


def chunked_form(boundary: str, size: int) -> Iterator[bytes]:
    """A multipart body without Content-Length that never ends its file."""
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
           f"Content-Type: image/png\r\n\r\n").encode()
    for _ in range(size // (64 * KB)):
        yield b"x" * (64 * KB)


def test_a_request_cut_off_mid_body_leaves_nothing(limited):
    before = entries(limited)
    host, port = limited.url.split("//", 1)[1].rstrip("/").split(":")
    head = (b'--cut\r\nContent-Disposition: form-data; name="files"; filename="cut.png"\r\n'
            b"Content-Type: image/png\r\n\r\n")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.5.0.1\r\n"
                     b"Content-Type: multipart/form-data; boundary=cut\r\nContent-Length: 900000\r\n\r\n"
                     + head + b"x" * 300_000)
        assert wait_for(lambda: files_under(entries(limited) - before)), "the upload never reached the folder"
    assert wait_for(lambda: not files_under(entries(limited) - before)), "the cut-off upload was left behind"
    assert entries(limited) <= before


def test_gradios_recording_route_is_closed(limited):
    before = entries(limited)
    answer = httpx.post(limited.url + "gradio_api/process_recording", timeout=60,
                        files={"video": ("rec.mp4", b"\x00\x00\x00\x18ftypmp42" + b"x" * 1000, "video/mp4")})
    assert answer.status_code in (404, 405)
    assert entries(limited) <= before
