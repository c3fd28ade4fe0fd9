"""Browser tests: headless Chromium (Playwright) against `streamlit run app.py`.

The helpers live in `harness.py`; it is a plain module with no pytest dependency at import time,
so `benchmarks/browser_latency.py` uses it too.
"""
