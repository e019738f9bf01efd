"""Schemathesis hooks for the admin API run (loaded through SCHEMATHESIS_HOOKS).

The fuzzer calls every operation as the account in AI_PROXY_FUZZ_USER_ID. Changing that
account's own password, role or enabled flag through PUT /api/users/{id} would lock the
rest of the run out, so those cases are not generated; every other account is fair game.
"""

import os

import schemathesis

OWN_ID = int(os.environ["AI_PROXY_FUZZ_USER_ID"])


def _as_id(value):
    # The gateway parses ids as Rust does: "+1" and "001" are 1 as well.
    try:
        return int(str(value))
    except ValueError:
        return None


@schemathesis.hook
def filter_case(context, case):
    operation = case.operation
    if operation.method.upper() == "PUT" and operation.path == "/api/users/{id}":
        return _as_id((case.path_parameters or {}).get("id")) != OWN_ID
    return True
