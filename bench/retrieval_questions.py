"""Questions over Python's library reference (Debian's `python3.11-doc`, `library/*.html`), each
with the pages that answer it. Written from the pages, before any system's results were seen.

Three sets:
- `terms`: asked with the words the page itself uses (a function, a module, an error's name);
- `natural`: asked as people ask, in full sentences without the page's distinctive terms;
- `portuguese`: questions of both kinds in Portuguese, judged over the same English pages.
"""

from __future__ import annotations

from typing import NamedTuple


class Question(NamedTuple):
    text: str
    relevant: tuple[str, ...]  # page file names, e.g. "pathlib.html"


TERMS = [
    Question("pathlib Path.glob recursive pattern", ("pathlib.html", "glob.html")),
    Question("json.dumps indent sort_keys", ("json.html",)),
    Question("subprocess.run capture_output check CalledProcessError", ("subprocess.html",)),
    Question("functools.lru_cache maxsize typed", ("functools.html",)),
    Question("collections.Counter most_common", ("collections.html",)),
    Question("itertools.groupby key function consecutive", ("itertools.html",)),
    Question("datetime.timezone utc astimezone", ("datetime.html",)),
    Question("zoneinfo ZoneInfo IANA time zone", ("zoneinfo.html",)),
    Question("asyncio.gather return_exceptions", ("asyncio-task.html",)),
    Question("asyncio.Queue put_nowait task_done join", ("asyncio-queue.html",)),
    Question("threading.Lock acquire release context manager", ("threading.html",)),
    Question("concurrent.futures ThreadPoolExecutor as_completed", ("concurrent.futures.html",)),
    Question("re.compile re.IGNORECASE named group", ("re.html",)),
    Question("argparse add_argument nargs choices", ("argparse.html",)),
    Question("logging basicConfig level format", ("logging.html",)),
    Question(
        "logging.handlers RotatingFileHandler maxBytes backupCount", ("logging.handlers.html",)
    ),
    Question("unittest.mock patch side_effect", ("unittest.mock.html",)),
    Question("dataclasses field default_factory frozen", ("dataclasses.html",)),
    Question("typing TypedDict Protocol runtime_checkable", ("typing.html",)),
    Question("enum Enum auto Flag", ("enum.html",)),
    Question("sqlite3 connect execute parameter substitution placeholders", ("sqlite3.html",)),
    Question("csv DictReader DictWriter fieldnames", ("csv.html",)),
    Question("hashlib sha256 hexdigest", ("hashlib.html",)),
    Question("secrets token_urlsafe", ("secrets.html",)),
    Question("tempfile NamedTemporaryFile delete", ("tempfile.html",)),
    Question("shutil rmtree copytree", ("shutil.html",)),
    Question("zipfile ZipFile extractall", ("zipfile.html",)),
    Question("tarfile open extractall filter", ("tarfile.html",)),
    Question("urllib.parse urlencode quote_plus", ("urllib.parse.html",)),
    Question("http.server SimpleHTTPRequestHandler", ("http.server.html",)),
    Question("socket bind listen accept", ("socket.html",)),
    Question("ssl create_default_context check_hostname", ("ssl.html",)),
    Question("heapq heappush heappop nlargest", ("heapq.html",)),
    Question("bisect insort sorted list", ("bisect.html",)),
    Question("decimal Decimal quantize ROUND_HALF_UP", ("decimal.html",)),
    Question("statistics median stdev", ("statistics.html",)),
    Question("contextlib contextmanager suppress ExitStack", ("contextlib.html",)),
    Question("weakref WeakValueDictionary finalize", ("weakref.html",)),
    Question("tomllib load TOML", ("tomllib.html",)),
    Question("venv create --system-site-packages", ("venv.html",)),
]

NATURAL = [
    Question("how can I make my program wait a few seconds before continuing", ("time.html",)),
    Question(
        "I want every file below a folder whose name ends in .txt", ("pathlib.html", "glob.html")
    ),
    Question("how do I run another program and read what it printed", ("subprocess.html",)),
    Question(
        "remember the results of an expensive function so it runs only once per input",
        ("functools.html",),
    ),
    Question("count how many times each word appears in a list", ("collections.html",)),
    Question("turn my object into text that a web service can read and back again", ("json.html",)),
    Question("make a random password that is safe to use for logging in", ("secrets.html",)),
    Question("check whether a text looks like an e-mail address using a pattern", ("re.html",)),
    Question("let users pass options to my script from the terminal", ("argparse.html",)),
    Question(
        "write messages about what my program does to a file, with a new file every day",
        ("logging.handlers.html",),
    ),
    Question(
        "do many downloads at the same time without starting processes",
        ("concurrent.futures.html", "threading.html", "asyncio-task.html"),
    ),
    Question("replace a function with a fake one while testing", ("unittest.mock.html",)),
    Question("money calculations without rounding surprises", ("decimal.html",)),
    Question(
        "how do I know which day of the week a date falls on", ("datetime.html", "calendar.html")
    ),
    Question("keep the ten biggest numbers from a long stream", ("heapq.html",)),
    Question("store a small database in one file without a server", ("sqlite3.html",)),
    Question(
        "pack a folder into one compressed archive", ("shutil.html", "zipfile.html", "tarfile.html")
    ),
    Question("find out how long a piece of my code takes", ("timeit.html", "time.html")),
    Question("copy an object so that changing the copy leaves the original alone", ("copy.html",)),
    Question(
        "serve the files of the current folder over the web for a quick test", ("http.server.html",)
    ),
    Question(
        "open a file that is removed automatically when I am done with it", ("tempfile.html",)
    ),
]

PORTUGUESE = [
    Question("como fazer o programa esperar alguns segundos", ("time.html",)),
    Question(
        "listar todos os arquivos .txt dentro de uma pasta e subpastas",
        ("pathlib.html", "glob.html"),
    ),
    Question("executar outro programa e ler a saída dele", ("subprocess.html",)),
    Question("guardar em cache o resultado de uma função cara", ("functools.html",)),
    Question("contar quantas vezes cada palavra aparece numa lista", ("collections.html",)),
    Question("converter um dicionário para JSON com indentação", ("json.html",)),
    Question("gerar uma senha aleatória segura", ("secrets.html",)),
    Question("expressão regular ignorando maiúsculas e minúsculas", ("re.html",)),
    Question("ler argumentos da linha de comando no meu script", ("argparse.html",)),
    Question(
        "registrar mensagens de log num arquivo que gira por tamanho", ("logging.handlers.html",)
    ),
    Question("executar tarefas em paralelo com um pool de threads", ("concurrent.futures.html",)),
    Question("substituir uma função por um objeto falso nos testes", ("unittest.mock.html",)),
    Question("cálculos com dinheiro sem erros de arredondamento", ("decimal.html",)),
    Question("converter data e hora para outro fuso horário", ("datetime.html", "zoneinfo.html")),
    Question("fila de prioridade com os menores elementos primeiro", ("heapq.html",)),
    Question("banco de dados num único arquivo sem servidor", ("sqlite3.html",)),
    Question("compactar uma pasta num arquivo zip", ("shutil.html", "zipfile.html")),
    Question("medir quanto tempo um trecho de código demora", ("timeit.html", "time.html")),
    Question("copiar um objeto profundamente", ("copy.html",)),
    Question("criar um ambiente virtual isolado para o projeto", ("venv.html",)),
]

SETS = {"terms": TERMS, "natural": NATURAL, "portuguese": PORTUGUESE}
