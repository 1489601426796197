"""Development tooling, not part of the platform's package or image.

    sample/             synthetic data in every publisher's exact format (the demo and the tests)
    fake_police_api.py  a data.police.uk API on loopback, for the demo and the HTTP tests
    demo.py             `make demo`'s sample generation and headlines
"""
