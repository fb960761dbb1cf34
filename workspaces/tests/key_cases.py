"""API-key header edge cases every keyed endpoint is tested with: (headers for a valid
key, whether the request is accepted)."""

import pytest

API_KEY_HEADER_CASES = [
    pytest.param(lambda key: {"HTTP_X_API_KEY": ""}, False, id="empty"),
    pytest.param(lambda key: {"HTTP_X_API_KEY": " \t "}, False, id="blank"),
    # Surrounding whitespace is not part of an HTTP field value (RFC 9110 §5.5): a
    # padded valid key is that key. Django's test client keeps it; the code strips it.
    pytest.param(lambda key: {"HTTP_X_API_KEY": f"  {key}  "}, True, id="padded-with-spaces"),
    pytest.param(lambda key: {"HTTP_X_API_KEY": f"\t{key}\t"}, True, id="padded-with-tabs"),
    pytest.param(lambda key: {"HTTP_AUTHORIZATION": f"Bearer   {key}  "}, True, id="padded-bearer"),
    pytest.param(lambda key: {"HTTP_X_API_KEY": "sk_live_" + "A" * 10_240}, False, id="10kb"),
    pytest.param(lambda key: {"HTTP_X_API_KEY": key + "A" * 10_240}, False, id="valid-plus-10kb"),
    pytest.param(
        lambda key: {"HTTP_AUTHORIZATION": "Bearer " + "A" * 10_240}, False, id="10kb-bearer"
    ),
    # Two x-api-key headers reach Django joined with a comma (WSGI; see the live test in
    # hushmetrics/tests/test_bad_input_live.py): never a key, even twice the valid one.
    pytest.param(lambda key: {"HTTP_X_API_KEY": f"{key},{key}"}, False, id="twice-joined"),
    pytest.param(lambda key: {"HTTP_X_API_KEY": f"{key}, {key}"}, False, id="twice-joined-space"),
    pytest.param(lambda key: {"HTTP_X_API_KEY": f"{key},"}, False, id="valid-and-empty"),
    pytest.param(
        lambda key: {"HTTP_X_API_KEY": f"sk_live_{'B' * 40},{key}"}, False, id="bad-then-valid"
    ),
    # x-api-key wins over Authorization, so an empty one is a bad key, not "no key".
    pytest.param(
        lambda key: {"HTTP_X_API_KEY": "", "HTTP_AUTHORIZATION": f"Bearer {key}"},
        False,
        id="empty-x-api-key-beside-a-valid-bearer",
    ),
]
