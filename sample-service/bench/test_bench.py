"""bench.py reads wrk's figures whatever unit wrk prints them in."""

import pytest

from bench import wrk_figures, wrk_ms

# A `wrk -t1 -c32 -d2s --latency` run whose p99 reached a second, as wrk prints it: its
# print_units pads a value with a one-letter unit ("1.02s") with a space, so the 99% line ends in
# one. A CI run met this and bench.py, which wanted the line to end at the value, stopped.
SLOW_RUN = """Running 2s test @ http://127.0.0.1:18080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.31ms   40.12ms   1.05s    99.71%
    Req/Sec    45.31k     3.02k   49.00k    80.00%
  Latency Distribution
     50%  598.00us
     75%  802.00us
     90%    1.10ms
     99%    1.02s 
  90123 requests in 2.00s, 9.11MB read
Requests/sec:  45061.50
Transfer/sec:      4.55MB
"""


def test_a_p99_in_seconds_is_read():
    assert wrk_figures(SLOW_RUN) == {"rps": 45061.5, "p50_ms": 0.598, "p99_ms": 1020.0}


def test_a_run_without_its_latency_lines_gives_nothing():
    assert wrk_figures(SLOW_RUN.replace("     99%    1.02s \n", "")) is None


@pytest.mark.parametrize(
    ("text", "ms"),
    [("412.00us", 0.412), ("1.19ms", 1.19), ("1.02s", 1020.0), ("1.50m", 90_000.0), ("2.00h", 7_200_000.0)],
)
def test_every_unit_of_wrk_is_read(text, ms):
    assert wrk_ms(text) == pytest.approx(ms)
