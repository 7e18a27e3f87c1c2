"""Makes a container in Azurite, signed with its well-known development
account key (Shared Key authorisation, Python's standard library only):
object_store reads and writes blobs but makes no containers.

    python3 scripts/emulators/container.py http://127.0.0.1:PORT NAME
"""

import base64
import hashlib
import hmac
import sys
import urllib.error
import urllib.request
from email.utils import formatdate

ACCOUNT = "devstoreaccount1"
# Azurite's documented development key: public, and good only for it.
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-08-06"


def main() -> None:
    endpoint, container = sys.argv[1].rstrip("/"), sys.argv[2]
    date = formatdate(usegmt=True)
    headers = {"x-ms-date": date, "x-ms-version": VERSION, "Content-Length": "0"}
    canonical_headers = f"x-ms-date:{date}\nx-ms-version:{VERSION}\n"
    canonical_resource = f"/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
    # Verb, then eleven standard headers (all empty here: a zero length is
    # written as empty), then the x-ms- headers and the resource.
    to_sign = "PUT\n" + "\n" * 11 + canonical_headers + canonical_resource
    digest = hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {ACCOUNT}:{base64.b64encode(digest).decode()}"
    url = f"{endpoint}/{ACCOUNT}/{container}?restype=container"
    request = urllib.request.Request(url, method="PUT", headers=headers)
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        if error.code != 409:  # it exists already
            sys.exit(f"container {container}: HTTP {error.code}: {error.read()[:300]!r}")


main()
