"""Headers every response carries, whatever route or error made it.

`X-Content-Type-Options: nosniff` keeps browsers from second-guessing a
Content-Type: a CSV, a JSON export or a download that happens to look like
HTML is never rendered as a page of this origin. `StreamObserver` adds them
to each response that does not set them itself.
"""

from typing import Final

SECURITY_HEADERS: Final = {"X-Content-Type-Options": "nosniff"}
