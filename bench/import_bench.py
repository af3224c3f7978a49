"""Ledger import (台账导入) at 100,000 rows, side by side in one run (issue 6 item 8).
See bench/README.md.

    .venv/bin/python bench/import_bench.py --rows 100000

1. Prepares a PostgreSQL template database (shouhu_bench_import by default): migrate,
   load_regions, seed_demo with a few thousand files (the demo county: real Hepu townships,
   their villages, units and accounts). Each measurement then runs in a fresh copy of it
   (CREATE DATABASE … TEMPLATE), in a process of its own, so peak RSS is that measurement's.
2. Builds an .xlsx ledger of N rows in the national roster layout (nationalforms.roster
   ROSTER_HEADERS, header in row 1): villages of the demo county, valid ID numbers, both
   parents, an entrusted guardian for about a third, code-list values by their Chinese labels.
   The same seed gives the same rows; a smaller file is the first rows of a larger one.
3. Measures, each in its own process:
   (a) ours, as the web does it: batch_upload (the upload guard, the header and mapping),
       batch_map (the preview job submitted), job_run of the preview, batch_commit_submit,
       job_run of the commit; the phases come from the jobs' results. Then the same file a
       second time (everything unchanged: nothing may be written).
   (b) django-import-export 4 (a ModelResource for Child with its parents and guardian, see
       iie_resource()), import_data(dry_run=False, use_transactions=True), on the first
       --iie-rows rows (it manages a few hundred rows a second). Needs the package: see
       bench/README.md (it runs in var/venv-import-bench, the project's packages plus it).
   (c) the physical limit: python-calamine reading the file, plus psycopg COPY of as many
       rows into temporary copies of registry_child and registry_parent (indexes included),
       with values of the same width (encrypted columns as tokens of the real length).
   (d) the database server's floor for (a)'s commit: the very rows (a) wrote (files, parents,
       guardians and their history rows), taken from (a)'s database in PostgreSQL's binary
       format, written again into a fresh copy of the template with binary COPY from memory,
       in one transaction (indexes kept, foreign keys checked at its commit, as Django makes
       them): no Python work at all, the server's alone. With (c)'s read it is the least that
       any import of this file into these tables, with their history, can take here.
4. Writes a Markdown table into docs/benchmarks.md between the bench:import markers.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import ledger_bench  # noqa: E402  (database reset, machine facts, the report writer)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shouhu_bench_import"
REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## Ledger import, 100,000 rows side by side (issue 6)"
BEGIN, END = "<!-- bench:import:begin -->", "<!-- bench:import:end -->"
FILES = ROOT / "var" / "bench"
IIE_PYTHON = ROOT / "var" / "venv-import-bench" / "bin" / "python"
TARGET_S = 15.0
TARGET_IIE_FACTOR = 20.0
TARGET_LIMIT_FACTOR = 3.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the ledger file")
    parser.add_argument("--iie-rows", type=int, default=5_000, help="rows for django-import-export")
    parser.add_argument("--existing", type=int, default=5_000, help="files seeded before the import")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument(
        "--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL URL of the template database (env BENCH_DATABASE_URL); dropped and recreated",
    )  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="keep an already prepared template database")
    parser.add_argument("--force", action="store_true", help="allow a database name without 'bench'")
    parser.add_argument(
        "--only", choices=["ours", "iie", "limit"], action="append",
        help="run only these measurements (repeatable); default all three",
    )  # fmt: skip
    parser.add_argument("--no-reimport", action="store_true", help="skip the second import of the same file")
    parser.add_argument("--profile", action="store_true", help="cProfile our import (var/bench/*.prof)")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    # Internal: one measurement in a child process; prints one JSON line.
    parser.add_argument("--measure", choices=["ours", "iie", "limit"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def configure(url: str) -> None:
    """ledger_bench.configure with the upload limits raised for the bench only."""
    os.environ["SHOUHU_IMPORT_MAX_ROWS"] = "1000000"
    os.environ["SHOUHU_UPLOAD_MAX_BYTES"] = str(1024 * 1024 * 1024)
    os.environ["SHOUHU_UPLOAD_MAX_UNPACKED_BYTES"] = str(4 * 1024 * 1024 * 1024)
    os.environ["SHOUHU_UPLOAD_DIR"] = str(FILES / "uploads")
    os.environ["SHOUHU_PROGRESS_DIR"] = str(FILES / "progress")
    ledger_bench.configure(url)


def _run_url(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=parsed.path + "_run").geturl()


# --- the template database ----------------------------------------------------------------


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate, load the regions, seed the demo county (without history); returns facts."""
    from django.core.management import call_command
    from django.db import connection

    from core.models import demo_loaded
    from registry.models import Child

    reused = False
    try:
        reused = args.reuse and demo_loaded() and Child.objects.count() >= args.existing
    except Exception:
        reused = False
    if reused:
        call_command("migrate", verbosity=0)  # a reused template gets the code's schema
    else:
        connection.close()
        ledger_bench.reset_database(args.db_url, force=args.force)
        connection.close()
        call_command("migrate", verbosity=0)
        call_command("load_regions", verbosity=0)
        call_command(
            "seed_demo", children=args.existing, seed=args.seed, password=ledger_bench.PASSWORD,
            no_history=True, verbosity=0, stdout=io.StringIO(),
        )  # fmt: skip
        ledger_bench._execute("VACUUM (ANALYZE)")
    facts = {"existing": Child.objects.count(), "reused": reused}
    connection.close()
    return facts


def copy_template(url: str) -> str:
    """A fresh copy of the template database for one measurement; returns its URL."""
    return _copy_database(url, "_run")


def _copy_database(url: str, suffix: str) -> str:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    template = parsed.path.lstrip("/")
    copy = template + suffix
    _drop_database(url, suffix)
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(copy), sql.Identifier(template))
        )
    return parsed._replace(path="/" + copy).geturl()


def _drop_database(url: str, suffix: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    template = parsed.path.lstrip("/")
    copy = template + suffix
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
            [[template, copy]],
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy)))


# --- the ledger file --------------------------------------------------------------------------

SURNAMES = "陈李黄张王刘林吴杨梁周何罗郑谢赵莫庞廖苏许钟邓冯韦覃蒙卢彭曾潘"
GIVEN = "小明华丽芳伟强军敏静婷杰涛超勇娟霞宇浩然欣怡子轩梓涵一诺雨桐思琪佳俊海燕秋月春生"
WORK_PLACES = (
    "广东省 广州市",
    "广东省 深圳市",
    "广东省 东莞市",
    "广东省 佛山市",
    "广东省 中山市",
    "浙江省 杭州市",
    "福建省 厦门市",
    "广西壮族自治区 南宁市",
    "海南省 海口市",
    "上海市",
)
INCOME = ("打工", "打工、种养殖", "种养殖", "打工、政府救助", "亲朋接济")
ASSISTANCE = ("", "", "", "低保", "临时救助", "低保、医疗救助")
SCHOOL_BY_AGE = ((3, "未入园"), (6, "幼儿园"), (12, "小学"), (15, "初中"), (18, "高中"))
GUARDIAN_RELATIONS = ("祖父", "祖母", "外祖父", "外祖母", "叔伯姑舅姨")
ID_REGIONS = ("450521", "450502", "450503", "450512")


def villages() -> list[tuple[str, str]]:
    """(township, village) names of the demo county's villages, in code order."""
    from geo.models import Region, RegionLevel

    rows = (
        Region.objects.filter(code__startswith="450521", level=RegionLevel.VILLAGE, valid_to__isnull=True)
        .order_by("code")
        .values_list("parent__name", "name")
    )
    return [(str(t), str(v)) for t, v in rows]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _id(rng: random.Random, birth: dt.date, sex: str, used: set[str]) -> str:
    from core import idnumber

    while True:
        sequence = rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
        number = idnumber.make(rng.choice(ID_REGIONS), birth, sequence)
        if number not in used:
            used.add(number)
            return number


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def ledger_rows(count: int, seed: int, places: list[tuple[str, str]], on: dt.date) -> list[list[Any]]:
    """The roster rows (ROSTER_HEADERS order) of a realistic ledger, deterministic per seed."""
    rng = random.Random(seed)
    used: set[str] = set()
    rows: list[list[Any]] = []
    for number in range(1, count + 1):
        township, village = places[rng.randrange(len(places))]
        birth = _day(rng, on - dt.timedelta(days=16 * 365), on - dt.timedelta(days=2 * 365))
        sex = rng.choice("MF")
        age = (on - birth).days // 365
        schooling = next(label for limit, label in SCHOOL_BY_AGE if age < limit)
        health, disability, illness = "健康", "", ""
        draw = rng.random()
        if draw < 0.02:
            health, disability = "残疾", rng.choice(("肢体残疾二级", "智力残疾三级", "听力残疾四级"))
        elif draw < 0.04:
            health, illness = "患病", rng.choice(("哮喘", "先天性心脏病", "癫痫"))
        father_away, mother_away = rng.random() < 0.85, rng.random() < 0.6
        care = "（外）祖父母照料" if father_away and mother_away else "父母一方照料"
        guardian = care == "（外）祖父母照料" and rng.random() < 0.45
        address = f"广西壮族自治区合浦县{township}{village}{rng.randrange(1, 300)}号"
        rows.append(
            [
                number,
                "合浦县",
                township,
                village,
                _name(rng),
                "男" if sex == "M" else "女",
                "汉族" if rng.random() < 0.9 else "壮族",
                birth,
                _id(rng, birth, sex, used),
                "是",
                address,
                address,
                health,
                disability,
                illness,
                "是" if schooling in ("初中", "高中") and rng.random() < 0.3 else "否",
                schooling,
                f"合浦县{township}中心学校",
                *_parent(rng, "M", father_away, on, used),
                *_parent(rng, "F", mother_away, on, used),
                *_guardian(rng, guardian, on, used, township, village),
                care,
                rng.choice(("较好", "较好", "较好", "一般", "差")),
                rng.choice(INCOME),
                rng.choice(ASSISTANCE),
                "否",
                "否",
                "",
            ]
        )
    return rows


def _parent(rng: random.Random, sex: str, away: bool, on: dt.date, used: set[str]) -> list[Any]:
    birth = _day(rng, on - dt.timedelta(days=50 * 365), on - dt.timedelta(days=22 * 365))
    return [
        _name(rng),
        birth,
        _id(rng, birth, sex, used),
        rng.choice(WORK_PLACES) if away else "",
        _phone(rng),
        "外出务工" if away else "在家",
    ]


def _guardian(
    rng: random.Random, present: bool, on: dt.date, used: set[str], township: str, village: str
) -> list[Any]:
    if not present:
        return ["否", "", "", "", "", ""]
    birth = _day(rng, on - dt.timedelta(days=80 * 365), on - dt.timedelta(days=45 * 365))
    return [
        "是",
        _name(rng),
        _phone(rng),
        _id(rng, birth, rng.choice("MF"), used),
        rng.choice(GUARDIAN_RELATIONS),
        f"广西壮族自治区合浦县{township}{village}{rng.randrange(1, 300)}号",
    ]


def build_file(count: int, seed: int, places: list[tuple[str, str]], on: dt.date) -> Path:
    """The ledger .xlsx (cached under var/bench by size, seed and date)."""
    import xlsxwriter

    from nationalforms.roster import ROSTER_HEADERS

    path = FILES / f"ledger-{count}-{seed}-{on:%Y%m%d}.xlsx"
    if path.exists():
        return path
    FILES.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    workbook = xlsxwriter.Workbook(str(partial), {"constant_memory": True})
    sheet = workbook.add_worksheet("花名册")
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ROSTER_HEADERS)
    for index, row in enumerate(ledger_rows(count, seed, places, on), start=1):
        for column, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(index, column, dt.datetime.combine(value, dt.time()), dates)
            elif value != "":
                sheet.write(index, column, value)
    workbook.close()
    partial.rename(path)
    return path


# --- (a) ours -----------------------------------------------------------------------------------


def measure_ours(path: Path, *, reimport: bool, profile: bool) -> dict[str, Any]:
    """The import as the web runs it, through the services and the job runner."""
    from accounts.models import User

    user = User.objects.get(username=ledger_bench.PERSONAS["county_admin"])
    result = {"first": _import_once(user, path, profile=profile)}
    if reimport:
        result["again"] = _import_once(user, path, profile=False)
    result["rss_mb"] = _peak_rss_mb()
    return result


class _PhaseLog:
    """Collects the phases imports.services logs at the end of each job."""

    def __init__(self) -> None:
        import logging

        self.phases: dict[str, dict[str, float]] = {}
        handler = logging.Handler()
        handler.emit = self._emit  # type: ignore[method-assign]
        logger = logging.getLogger("shouhu.imports")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    def _emit(self, record: Any) -> None:
        kind, _rows, phases = record.args
        self.phases[kind] = json.loads(phases)


PHASE_LOG: _PhaseLog | None = None


def _import_once(user: Any, path: Path, *, profile: bool) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.services import batch_commit_submit, batch_map, batch_mapping, batch_upload
    from jobs.models import Job
    from jobs.services import job_run

    global PHASE_LOG
    PHASE_LOG = PHASE_LOG or _PhaseLog()
    content = path.read_bytes()
    timings: dict[str, float] = {}
    profiler = _profiler(profile)
    started = time.perf_counter()
    batch = batch_upload(user=user, upload=SimpleUploadedFile("台账.xlsx", content))
    timings["upload"] = time.perf_counter() - started
    mark = time.perf_counter()
    job = batch_map(user=user, batch=batch, mapping=batch_mapping(batch))
    outcome = job_run(job_id=job.pk)
    timings["preview"] = time.perf_counter() - mark
    preview = Job.objects.get(pk=job.pk).result or {}
    batch.refresh_from_db()
    if outcome != "succeeded" or batch.error_count:
        raise SystemExit(f"preview {outcome}: {preview} ({batch.error_count} errors)")
    mark = time.perf_counter()
    job = batch_commit_submit(user=user, batch=batch)
    outcome = job_run(job_id=job.pk)
    timings["commit"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    commit = Job.objects.get(pk=job.pk).result or {}
    if outcome != "succeeded":
        raise SystemExit(f"commit {outcome}: {json.dumps(commit, ensure_ascii=False)[:2000]}")
    if profiler is not None:
        profiler.disable()
        out = FILES / f"import-{batch.total_rows}.prof"
        profiler.dump_stats(str(out))
        print(f"profile: {out}", file=sys.stderr)
    return {
        "rows": batch.total_rows,
        "seconds": timings,
        "preview": {**preview, "phases": PHASE_LOG.phases.get("imports.preview", {})},
        "commit": {**commit, "phases": PHASE_LOG.phases.get("imports.commit", {})},
    }


def _profiler(enabled: bool) -> Any:
    if not enabled:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- (b) django-import-export -----------------------------------------------------------------


def iie_resource() -> Any:
    """A ModelResource for Child as one would write it: the roster headers as column names,
    code-list labels to codes, the village by (township, village) name, derive() and a file
    number before each save, the parents and the guardian saved after it (simple_history
    records every save through its signals), the care state of the new files at the end."""
    from import_export import fields, resources

    from core.blind_index import id_index
    from imports import normalise
    from imports.services import care_state_recompute
    from registry import choices as c
    from registry.models import Child, EntrustedGuardian, Parent
    from registry.services import _next_file_no, derive

    lookup = _iie_villages()
    on = dt.date.today()

    def column(attribute: str, header: str) -> Any:
        return fields.Field(attribute=attribute, column_name=header)

    class ChildResource(resources.ModelResource):
        name = column("name", "姓名")
        sex = column("sex", "性别")
        ethnicity = column("ethnicity", "民族")
        birth_date = column("birth_date", "出生日期")
        id_number = column("id_number", "公民身份号码")
        hukou_registered = column("hukou_registered", "是否登记户口")
        hukou_place = column("hukou_place", "户籍所在地")
        current_address = column("current_address", "现居住地")
        health = column("health", "身体情况")
        illness = column("illness", "患病类型")
        boarding = column("boarding", "是否学校寄宿")
        schooling = column("schooling", "就学情况")
        care_type = column("care_type", "监护类型")
        guardianship_rating = column("guardianship_rating", "监护情况评估")
        income_sources = column("income_sources", "家庭经济来源")
        assistance = column("assistance", "救助帮扶情况")
        is_in_difficulty = column("is_in_difficulty", "困境儿童")
        is_de_facto_orphan = column("is_de_facto_orphan", "事实无人抚养儿童")
        village = column("village_id", "村（社区）")
        id_index = column("id_index", "id_index")

        class Meta:
            model = Child
            import_id_fields = ("id_index",)
            fields = (
                *("name", "sex", "ethnicity", "birth_date", "id_number", "hukou_registered"),
                *("hukou_place", "current_address", "health", "illness", "boarding", "schooling"),
                *("care_type", "guardianship_rating", "income_sources", "assistance"),
                *("is_in_difficulty", "is_de_facto_orphan", "village", "id_index"),
            )
            skip_unchanged = True
            report_skipped = False
            use_bulk = False

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            # Labels to codes with the same vocabularies as ours, the village by name.
            row["id_index"] = id_index(normalise.id_number(row["公民身份号码"]))
            row["性别"] = normalise.SEX.code(row["性别"])
            row["身体情况"] = normalise.HEALTH.code(row["身体情况"]) or c.Health.HEALTHY
            row["就学情况"] = normalise.SCHOOLING.code(row["就学情况"])
            row["监护类型"] = normalise.CARE_TYPE.code(row["监护类型"])
            row["监护情况评估"] = normalise.RATING.code(row["监护情况评估"])
            row["家庭经济来源"] = normalise.multi(row["家庭经济来源"], c.Income.choices)
            row["救助帮扶情况"] = normalise.multi(row["救助帮扶情况"], c.Assistance.choices)
            for header in ("是否登记户口", "是否学校寄宿", "困境儿童", "事实无人抚养儿童"):
                row[header] = normalise.boolean(row[header])
            row["出生日期"] = normalise.date(row["出生日期"])
            row["村（社区）"] = lookup[(row["乡镇（街道）"], row["村（社区）"])]
            for header in ("户籍所在地", "现居住地", "患病类型"):
                row[header] = row[header] or ""

        def before_save_instance(self, instance: Child, row: Any, **kwargs: Any) -> None:
            instance.income_sources = list(instance.income_sources or [])
            derive(instance, father=_facts(row, "父亲"), mother=_facts(row, "母亲"), on=on)
            if instance._state.adding:
                instance.file_no = _next_file_no(instance.village)
            else:
                instance.version += 1

        def after_save_instance(self, instance: Child, row: Any, **kwargs: Any) -> None:
            for role, prefix in ((c.ParentRole.FATHER, "父亲"), (c.ParentRole.MOTHER, "母亲")):
                parent = Parent.objects.filter(child=instance, role=role).first() or Parent(
                    child=instance, role=role
                )
                parent.name = row[f"{prefix}姓名"] or ""
                parent.birth_date = normalise.date(row[f"{prefix}出生日期"])
                parent.id_number = normalise.id_number(row[f"{prefix}公民身份号码"])
                parent.id_index = id_index(parent.id_number or None)
                parent.phone = normalise.phone(row[f"{prefix}联系电话"])
                parent.status = normalise.PARENT_STATUS.code(row[f"{prefix}当前状态"]) or "away"
                province, city = lookup.work_place(row[f"{prefix}当前务工地点"] or "")
                parent.work_province, parent.work_city = province, city
                parent.save()
            if normalise.boolean(row["有无委托监护人"]):
                guardian = EntrustedGuardian.objects.filter(child=instance).first() or EntrustedGuardian(
                    child=instance
                )
                guardian.name = row["受委托监护人姓名"]
                guardian.phone = normalise.phone(row["受委托监护人联系电话"])
                guardian.id_number = normalise.id_number(row["受委托监护人公民身份号码"])
                guardian.relation = normalise.RELATION.code(row["与儿童关系"])
                guardian.address = row["受委托监护人居住地址"] or ""
                guardian.save()
            self.saved.append(instance.pk)

        def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
            care_state_recompute(self.saved, on=on)

    resource = ChildResource()
    resource.saved = []
    return resource


def _facts(row: Any, prefix: str) -> dict[str, Any]:
    from imports import normalise

    return {"status": normalise.PARENT_STATUS.code(row[f"{prefix}当前状态"]) or "away"}


class _VillageLookup(dict[tuple[str, str], Any]):
    def __init__(self) -> None:
        from geo.models import Region, RegionLevel
        from imports.regions import RegionLookup

        super().__init__()
        for region in Region.objects.filter(
            code__startswith="450521", level=RegionLevel.VILLAGE, valid_to__isnull=True
        ).select_related("parent"):
            self[(region.parent.name, region.name)] = region.pk
        self.places = RegionLookup([])

    def work_place(self, text: str) -> tuple[Any, Any]:
        return self.places.work_place(text) if text else (None, None)


def _iie_villages() -> _VillageLookup:
    return _VillageLookup()


def measure_iie(path: Path) -> dict[str, Any]:
    import import_export
    from import_export.formats.base_formats import XLSX

    from accounts.models import User

    user = User.objects.get(username=ledger_bench.PERSONAS["county_admin"])
    started = time.perf_counter()
    dataset = XLSX().create_dataset(path.read_bytes())
    dataset.append_col([None] * len(dataset), header="id_index")  # filled by before_import_row
    read_s = time.perf_counter() - started
    resource = iie_resource()
    mark = time.perf_counter()
    result = resource.import_data(dataset, dry_run=False, use_transactions=True, raise_errors=True, user=user)
    import_s = time.perf_counter() - mark
    from registry.models import Child

    return {
        "version": import_export.__version__,
        "rows": len(dataset),
        "seconds": {"read": read_s, "import": import_s, "total": time.perf_counter() - started},
        "totals": {k: v for k, v in result.totals.items() if v},
        "children": Child.objects.count(),
        "rss_mb": _peak_rss_mb(),
    }


# --- (c) the physical limit --------------------------------------------------------------------


def measure_limit(path: Path) -> dict[str, Any]:
    """calamine reads the file; COPY writes as many rows into temp copies of the tables."""
    import uuid

    from django.db import connection
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    with CalamineWorkbook.from_path(str(path)) as workbook:
        rows = workbook.get_sheet_by_index(0).to_python()[1:]
    read_s = time.perf_counter() - started
    token = "v1:bench:aes-256-gcm:" + "A" * 64  # the length of a real token of an 18-char value
    village, township, county = _any_village()
    now = dt.datetime.now(dt.UTC)
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("registry_child", "registry_parent"):
            cursor.execute(f"CREATE TEMP TABLE tmp_{table} (LIKE {table} INCLUDING ALL)")
        child_columns, parent_columns = _columns("registry_child"), _columns("registry_parent")
        ids = []
        with cursor.copy(f"COPY tmp_registry_child ({', '.join(child_columns)}) FROM STDIN") as copy:
            for number, row in enumerate(rows):
                child_id = uuid.uuid4()
                ids.append(child_id)
                values = _child_values(row, number, child_id, token, village, township, county, now)
                copy.write_row([values.get(name) for name in child_columns])
        with cursor.copy(f"COPY tmp_registry_parent ({', '.join(parent_columns)}) FROM STDIN") as copy:
            for row, child_id in zip(rows, ids, strict=True):
                for role, offset in (("father", 18), ("mother", 24)):
                    values = _parent_values(row, offset, role, child_id, token)
                    copy.write_row([values.get(name) for name in parent_columns])
    copy_s = time.perf_counter() - mark
    return {
        "rows": len(rows),
        "seconds": {"read": read_s, "copy": copy_s, "total": time.perf_counter() - started},
        "rss_mb": _peak_rss_mb(),
    }


FLOOR_TABLES = {  # what the commit writes, with the key that tells its new rows from the template's
    "registry_child": "id",
    "registry_parent": "id",
    "registry_entrustedguardian": "id",
    "registry_historicalchild": "history_id",
    "registry_historicalparent": "history_id",
    "registry_historicalentrustedguardian": "history_id",
}


def measure_floor(url: str) -> dict[str, Any]:
    """(d): the rows that (a) wrote, written again by the server alone (see the docstring)."""
    import psycopg
    from psycopg import sql

    template, written = url, _run_url(url)
    data: dict[str, bytes] = {}
    with psycopg.connect(template) as before, psycopg.connect(written) as after:
        for table, key in FLOOR_TABLES.items():
            query = sql.SQL("SELECT {} FROM {}").format(sql.Identifier(key), sql.Identifier(table))
            old = [row[0] for row in before.execute(query)]
            copied = bytearray()
            out = sql.SQL("COPY (SELECT * FROM {} WHERE NOT ({} = ANY(%s))) TO STDOUT (FORMAT binary)")
            with after.cursor().copy(out.format(sql.Identifier(table), sql.Identifier(key)), [old]) as copy:
                for block in copy:
                    copied += block
            data[table] = bytes(copied)
    rows = {table: _binary_rows(data[table]) for table in data}
    floor_url = _copy_database(url, "_floor")
    try:
        with psycopg.connect(floor_url) as conn:
            cpu_before, started = _server_cpu(), time.perf_counter()
            seconds: dict[str, float] = {}
            with conn.cursor() as cursor:
                for table, payload in data.items():
                    mark = time.perf_counter()
                    statement = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(table))
                    with cursor.copy(statement) as copy:
                        view = memoryview(payload)
                        for offset in range(0, len(view), 1 << 20):
                            copy.write(view[offset : offset + (1 << 20)])
                    seconds[table] = time.perf_counter() - mark
            mark = time.perf_counter()
            conn.commit()  # the deferred foreign-key checks run here
            seconds["commit"] = time.perf_counter() - mark
            seconds["total"] = time.perf_counter() - started
            cpu = _server_cpu() - cpu_before if cpu_before is not None else None
    finally:
        _drop_database(url, "_floor")
    return {
        "rows": rows,
        "megabytes": sum(len(payload) for payload in data.values()) / 1e6,
        "seconds": seconds,
        "server_cpu": cpu,
    }


def _binary_rows(payload: bytes) -> int:
    """Rows in a COPY binary stream: each starts with its 16-bit field count (the header is
    19 bytes and its extension area; the trailer is -1)."""
    if not payload:
        return 0
    view = memoryview(payload)
    offset = 19 + int.from_bytes(view[15:19], "big")
    count = 0
    while True:
        fields = int.from_bytes(view[offset : offset + 2], "big", signed=True)
        if fields < 0:
            return count
        offset += 2
        for _ in range(fields):
            size = int.from_bytes(view[offset : offset + 4], "big", signed=True)
            offset += 4 + max(size, 0)
        count += 1


def _server_cpu() -> float | None:
    """CPU seconds of the PostgreSQL server's processes on this machine, those that ended
    included (the postmaster's children's times), or None where /proc does not tell."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    found = False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if not name.startswith("postgres"):
            continue
        fields = text[text.rindex(")") + 2 :].split()
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        found = True
    return total / ticks if found else None


def _columns(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def _any_village() -> tuple[Any, Any, Any]:
    from geo.models import Region, RegionLevel

    village = Region.objects.filter(code__startswith="450521", level=RegionLevel.VILLAGE).select_related(
        "parent__parent"
    )[0]
    return village.pk, village.parent.pk, village.parent.parent.pk


def _child_values(
    row: list[Any], number: int, child_id: Any, token: str, village: Any, township: Any, county: Any, now: Any
) -> dict[str, Any]:
    """Values of the width ours writes: names and codes as short text, tokens for the
    encrypted columns, JSON lists, keys."""
    return {
        "id": child_id,
        "file_no": f"450521001201{number:06d}",
        "version": 1,
        "name": row[4],
        "name_pinyin": "chenxiaoming",
        "name_initials": "cxm",
        "sex": "M",
        "ethnicity": row[6],
        "id_number": token,
        "id_index": f"{number:064x}",
        "id_tail": str(row[8])[-4:],
        "birth_date": row[7],
        "hukou_registered": True,
        "hukou_rural": True,
        "hukou_place": token + "A" * 40,
        "current_address": token + "A" * 40,
        "health": "healthy",
        "disability_category": "",
        "disability_grade": "",
        "illness": "",
        "schooling": "primary",
        "grade": "",
        "boarding": False,
        "village_id": village,
        "township_id": township,
        "county_id": county,
        "household_address": "",
        "income_sources": '["migrant_work"]',
        "assistance": "[]",
        "care_type": "grandparents",
        "guardianship_rating": "good",
        "is_left_behind": True,
        "is_in_difficulty": False,
        "is_de_facto_orphan": False,
        "is_key": False,
        "key_reasons": "[]",
        "key_manual": False,
        "key_manual_reason": "",
        "status": "active",
        "exit_reason": "",
        "exit_note": "",
        "created_at": now,
        "updated_at": now,
        "risk_colour": "green",
        "risk_reasons": "[]",
        "agreement_required": False,
    }


def _parent_values(row: list[Any], offset: int, role: str, child_id: Any, token: str) -> dict[str, Any]:
    import uuid

    return {
        "id": uuid.uuid4(),
        "child_id": child_id,
        "role": role,
        "name": row[offset],
        "birth_date": row[offset + 1] or None,
        "id_number": token,
        "id_index": "0" * 64,
        "phone": token,
        "phone_index": "0" * 64,
        "status": "away",
        "work_detail": "",
        "incapacity_reason": "",
        "incapacity_note": "",
        "unreachable": False,
    }


# --- the run ----------------------------------------------------------------------------------


def child(measure: str, url: str, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one measurement in a fresh copy of the template, in its own process."""
    python = IIE_PYTHON if measure == "iie" else Path(sys.executable)
    if measure == "iie" and not python.exists():
        return {"skipped": f"{python.relative_to(ROOT)} not found (see bench/README.md)"}
    run_url = copy_template(url)
    command = [str(python), __file__, "--measure", measure, "--file", str(path), "--db-url", run_url]
    if args.no_reimport:
        command.append("--no-reimport")
    if args.profile:
        command.append("--profile")
    print(f"  {measure}: {path.name} …", flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-8000:], sep="\n")
        raise SystemExit(f"{measure} failed ({done.returncode})")
    if done.stderr.strip():
        print("\n".join("    " + line for line in done.stderr.strip().splitlines()[-5:]))
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measured(args: argparse.Namespace) -> None:
    """Child process: one measurement, one JSON line on stdout."""
    configure(args.db_url)
    if args.measure == "ours":
        result = measure_ours(args.file, reimport=not args.no_reimport, profile=args.profile)
    elif args.measure == "iie":
        result = measure_iie(args.file)
    else:
        result = measure_limit(args.file)
    print(json.dumps(result, ensure_ascii=False, default=str))


def main() -> None:
    args = parse_args()
    if args.measure:
        measured(args)
        return
    configure(args.db_url)
    today = dt.date.today()
    facts = prepare(args)
    from django.db import connection

    places = villages()
    info, load_before = ledger_bench.machine(), ledger_bench._load()
    connection.close()
    started = time.perf_counter()
    path = build_file(args.rows, args.seed, places, today)
    print(
        f"Ledger file: {path.name}, {path.stat().st_size / 1e6:.1f} MB "
        f"({time.perf_counter() - started:.0f} s)"
    )
    wanted = args.only or ["ours", "iie", "limit"]
    results: dict[str, Any] = {}
    if "ours" in wanted:
        results["ours"] = child("ours", args.db_url, path, args)
        print(json.dumps(results["ours"], ensure_ascii=False, indent=1)[:3000])
        # (a)'s database holds what its first import wrote (the second writes nothing).
        print("  floor: the rows ours wrote, written again by the server alone …", flush=True)
        results["floor"] = measure_floor(args.db_url)
        print(json.dumps(results["floor"], ensure_ascii=False))
    if "iie" in wanted:
        small = build_file(min(args.iie_rows, args.rows), args.seed, places, today)
        results["iie"] = child("iie", args.db_url, small, args)
        print(json.dumps(results["iie"], ensure_ascii=False))
    if "limit" in wanted:
        results["limit"] = child("limit", args.db_url, path, args)
        print(json.dumps(results["limit"], ensure_ascii=False))
    block = render(results, info=info, facts=facts, path=path, load_before=load_before, villages=len(places))
    print(block)
    if not args.no_report and set(wanted) == {"ours", "iie", "limit"}:
        write_report(block)
        print(f"Results written to {REPORT.relative_to(ROOT)}")


# --- the report ---------------------------------------------------------------------------------


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "—"


def _phases(job: dict[str, Any]) -> str:
    """The job's phases. Without "wait", "write" includes the COPY time ("of which"); with it
    (PostgreSQL's background writer), the COPY ran beside the other phases and "wait" is the
    time the job waited for it at the end."""
    phases = dict(job.get("phases") or {})
    copy = phases.pop("copy", None)
    background = "wait" in phases
    parts = [f"{name} {seconds:.1f} s" for name, seconds in phases.items()]
    if copy is not None:
        note = f" (COPY {copy:.1f} s in the background)" if background else f" (COPY {copy:.1f} s)"
        parts = [p + note if p.startswith(("write ", "rows ")) else p for p in parts]
    return " · ".join(parts)


def render(
    results: dict[str, Any],
    *,
    info: dict[str, str],
    facts: dict[str, Any],
    path: Path,
    load_before: str,
    villages: int,
) -> str:
    ours, iie, limit = results.get("ours", {}), results.get("iie", {}), results.get("limit", {})
    first = ours.get("first", {})
    rows = int(first.get("rows", 0))
    total = float(first.get("seconds", {}).get("total", 0.0))
    ours_rate = rows / total if total else 0.0
    lines = [
        BEGIN,
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} by `bench/import_bench.py`.",
        "",
        f"- Machine: {info['cpu']}, {info['memory']} RAM; {info['postgresql']}; {info['software']}.",
        f"- Load average (1, 5, 15 min) when measuring began: {load_before}; "
        f"at the end: {ledger_bench._load()}. "
        "The machine is shared: other work inflates the figures.",
        f"- File: {rows:,} rows × 43 columns in the national roster layout (`nationalforms.roster`), "
        f"{path.stat().st_size / 1e6:.1f} MB .xlsx; {villages} villages of the demo county (合浦县); "
        "both parents on every row, an entrusted guardian on about a quarter.",
        f"- Database: a fresh copy per measurement of a template with {facts['existing']:,} files "
        "(`seed_demo`).",
        "",
        "| Import | Rows | Wall s | Rows/s | Peak RSS MB | Phases | Target |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    if first:
        seconds = first["seconds"]
        steps = (
            f"upload (guard, read, mapping) {seconds['upload']:.1f} s · preview {seconds['preview']:.1f} s "
            f"({_phases(first['preview'])}) · commit {seconds['commit']:.1f} s ({_phases(first['commit'])})"
        )
        verdict = "met" if total < TARGET_S else "**missed**"
        lines.append(
            f"| (a) ours: upload → preview job → commit job | {rows:,} | {total:.1f} | {ours_rate:,.0f} | "
            f"{ours.get('rss_mb', 0):.0f} | {steps} | < {TARGET_S:.0f} s: {verdict} |"
        )
    again = ours.get("again")
    if again:
        seconds = again["seconds"]
        lines.append(
            f"| (a) ours, the same file again (all unchanged; writes {again['commit'].get('created', 0)} "
            f"new, {again['commit'].get('updated', 0)} updated) | {again['rows']:,} | "
            f"{seconds['total']:.1f} | "
            f"{_rate(again['rows'], seconds['total'])} | | preview {seconds['preview']:.1f} s · "
            f"commit {seconds['commit']:.1f} s | |"
        )
    if iie.get("skipped"):
        lines.append(f"| (b) django-import-export | | | | | not run: {iie['skipped']} | |")
    elif iie:
        seconds = iie["seconds"]
        iie_rate = iie["rows"] / seconds["total"]
        factor = ours_rate / iie_rate if iie_rate else 0.0
        verdict = "met" if factor >= TARGET_IIE_FACTOR else "**missed**"
        lines.append(
            f"| (b) django-import-export {iie['version']} "
            "`import_data(dry_run=False, use_transactions=True)` "
            f"| {iie['rows']:,} | {seconds['total']:.1f} | {iie_rate:,.0f} | {iie['rss_mb']:.0f} | "
            f"read (tablib/openpyxl) {seconds['read']:.1f} s · import {seconds['import']:.1f} s | "
            f"ours ≥ {TARGET_IIE_FACTOR:.0f}× its rows/s: {factor:.1f}× {verdict} |"
        )
    if limit:
        seconds = limit["seconds"]
        factor = total / seconds["total"] if seconds["total"] else 0.0
        verdict = "met" if factor <= TARGET_LIMIT_FACTOR else "**missed**"
        lines.append(
            f"| (c) physical limit: python-calamine read + COPY into temp copies of registry_child and "
            f"registry_parent | {limit['rows']:,} | {seconds['total']:.1f} | "
            f"{_rate(limit['rows'], seconds['total'])} | "
            f"{limit['rss_mb']:.0f} | read {seconds['read']:.1f} s · COPY {seconds['copy']:.1f} s | "
            f"ours within {TARGET_LIMIT_FACTOR:.0f}×: {factor:.1f}× {verdict} |"
        )
    floor = results.get("floor")
    if floor:
        lines.append(_floor_line(floor, limit, total))
    lines.append(END)
    return "\n".join(lines)


def _floor_line(floor: dict[str, Any], limit: dict[str, Any], total: float) -> str:
    seconds, rows = floor["seconds"], floor["rows"]
    tables = " · ".join(
        f"{table.removeprefix('registry_')} {rows[table]:,} rows {seconds[table]:.1f} s" for table in rows
    )
    cpu = floor.get("server_cpu")
    cpu_text = f"; server CPU {cpu:.1f} s" if cpu is not None else ""
    read = float(limit.get("seconds", {}).get("read", 0.0))
    if read:
        least = read + seconds["total"]
        verdict = (
            f"with (c)'s read {read:.1f} s: **{least:.1f} s** at the least for any import of this file with "
            f"its history here; ours is {total / least:.1f}× that"
            + (f"; the {TARGET_S:.0f}-s target lies below it" if least >= TARGET_S else "")
        )
    else:
        verdict = ""
    return (
        f"| (d) the server's floor for (a)'s commit: the rows (a) wrote, binary COPY from memory into the "
        f"real tables in one transaction, no Python work | {sum(rows.values()):,} | "
        f"{seconds['total']:.1f} | | | {floor['megabytes']:.0f} MB: {tables} · "
        f"commit (deferred foreign-key checks) {seconds['commit']:.1f} s{cpu_text} | {verdict} |"
    )


def write_report(block: str, path: Path = REPORT) -> None:
    """Replace our generated block, keeping any text written around it (ledger_bench's way)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if SECTION not in text:
        marker = "\n## The test suite's own time"
        section = f"\n{SECTION}\n\nHow to run: see `bench/README.md`.\n\n{BEGIN}\n{END}\n"
        head, found, tail = text.partition(marker)
        text = head.rstrip("\n") + "\n" + section + (found + tail if found else "")
    head, _, rest = text.partition(SECTION)
    following = rest.find("\n## ")
    section, tail = (rest, "") if following < 0 else (rest[:following], rest[following:])
    before, _, remainder = section.partition(BEGIN)
    _, _, after = remainder.partition(END)
    path.write_text(head + SECTION + before + block + after + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
