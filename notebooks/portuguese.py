"""What the lessons print, draw and send, in the words the Portuguese lessons use: data for the
lesson tests (test_lessons.py), which look for each English text in an English lesson and for its
Portuguese twin in a Portuguese one."""

# What the lessons print, draw and send that the Portuguese lessons say in Portuguese: each English
# text (or pattern) the tests look for, and what the Portuguese lesson shows in its place. Names of
# spans, services and attributes, and Rust's own messages, are the same in both.
PORTUGUESE = {
    # 00
    "checkout took 42 ms": "checkout levou 42 ms",
    "the thread made a span: true": "a thread criou um span: true",
    "4 threads, one list: [0, 1, 2, 3]": "4 threads, uma lista: [0, 1, 2, 3]",
    "active inside the block: true\nactive after the block: false": "ativo dentro do bloco: true\nativo depois do bloco: false",
    "All 3 checks passed.": "As 3 verificações passaram.",
    # 01
    r"^(test_span_0[12])\s+trace (\w{32})\s+span (\w{16})\s+parent (\w{16})$": r"^(test_span_0[12])\s+trace (\w{32})\s+span (\w{16})\s+pai (\w{16})$",
    "tracer (instrumentation scope): example_tracing": "tracer (escopo de instrumentação): example_tracing",
    # 02
    "spans go to {endpoint}/v1/traces": "os spans vão para {endpoint}/v1/traces",
    "delivered: the spans reached": "entregues: os spans chegaram a",
    "Jaeger is not reachable": "o Jaeger não está acessível",
    "span from a global tracer in a later cell captured: false": "span de um tracer global em uma célula posterior capturado: false",
    "span from a global tracer in the same cell captured: true": "span de um tracer global na mesma célula capturado: true",
    r"(\d) downloads ran": r"(\d) downloads rodaram",
    "in Jaeger's UI: ": "na interface do Jaeger: ",
    'delivered; Jaeger lists the service "loja_da_ana": true': 'entregues; o Jaeger lista o serviço "loja_da_ana": true',
    "Jaeger has the trace under {service}, and lists the service": "o Jaeger tem o trace sob {service}, e lista o serviço",
    # 03
    "server span: trace 4bf92f3577b34da6a3ce929d0e0e4736  parent 00f067aa0ba902b7": (
        "span de servidor: trace 4bf92f3577b34da6a3ce929d0e0e4736  pai 00f067aa0ba902b7"
    ),
    "GET /team/ana -> 200 ana is on the team": "GET /team/ana -> 200 ana está no time",
    # 04
    "7 span(s) in 1 trace(s)": "7 span(s) em 1 trace(s)",
    "2 span(s) in 1 trace(s)": "2 span(s) em 1 trace(s)",
    "7 span(s) in 3 trace(s)": "7 span(s) em 3 trace(s)",
    r"parent id (\w{16})   \(the frontend's CLIENT span: \1\)": r"parent id (\w{16})   \(o span CLIENT do frontend: \1\)",
    "the backend received traceparent: (none)": "o backend recebeu traceparent: (nenhum)",
    # 05
    r"sampled share: ([\d.]+)% of 4000 root spans": r"taxa amostrada: ([\d.]+)% de 4000 spans raiz",
    r"sampler_for\(0.10\): measured share ([\d.]+)%": r"sampler_for\(0.10\): taxa medida ([\d.]+)%",
    "event: cache miss (cache.key = cart:A-1042)": "evento: cache miss (cache.key = cart:A-1042)",
    "links to trace": "tem um link para o trace",
    # 06
    r"the query takes (\d+) ms and parsing its answer (\d+) ms": r"a consulta leva (\d+) ms e o parsing da resposta dela (\d+) ms",
    r"Critical path \(the dark line\): quote_item 1[5-9]\d\.\d+ ms": r"Caminho crítico \(a linha escura\): quote_item 1[5-9]\d\.\d+ ms",
    r"one by one: (\d+) ms, together: (\d+) ms": r"uma a uma: (\d+) ms, juntas: (\d+) ms",
    r"the last waited (\d+) ms for the connection, (\d+) ms before": r"o último esperou (\d+) ms pela conexão, (\d+) ms antes",
    r"GET http://127\.0\.0\.1:\d+/order -> 200 in \d+ ms, trace ([0-9a-f]{32})": r"GET http://127\.0\.0\.1:\d+/order -> 200 em \d+ ms, trace ([0-9a-f]{32})",
    # 07
    "spans: delivered to": "spans: entregues a",
    "log records: delivered to": "registros de log: entregues a",
    r'calling inventory traceparent="00-([0-9a-f]{32})-([0-9a-f]{16})-01"': r'chamando o inventory traceparent="00-([0-9a-f]{32})-([0-9a-f]{16})-01"',
    "Str(confirmation sent)": "Str(confirmação enviada)",
    # 08
    "3 of the 7 kinds of fault are in it (seed {seed})": "3 dos 7 tipos de falha estão nela (semente {seed})",
    "12 checkouts, ": "12 checkouts, ",
}


def said(language, english):
    """What the lesson in `language` shows where the English one shows `english`."""
    return english if language == "en" else PORTUGUESE[english]
