"""What each kind of notification says, and whether it is also emailed.

One table, so a later feature adds a kind here and calls `notify`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str
    title: str  # str.format()ed with the subject as {obj}
    important: bool  # important kinds are emailed too, after commit


KINDS = {
    k.code: k
    for k in [
        Kind("welcome", "Welcome to {obj}", False),
        Kind("terms_published", "New version: {obj}. Please read and accept it", True),
        Kind("training_recorded", "Your coordinator recorded: {obj}", False),
        Kind("membership_checked", "Your membership has been checked", False),
        Kind("dbs_updated", "Your DBS check was updated", True),
        Kind("eligible", "You can now take part in {obj.scheme} as a {obj.role}", True),
    ]
}
