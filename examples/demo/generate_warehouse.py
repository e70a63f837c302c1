"""Generate the demo sample warehouse: a small shop in one SQLite file, no server needed.

Fifteen related tables (plus the ``order_totals`` view) with primary keys, foreign keys, UNIQUE
constraints, plain/composite/unique indexes, NOT NULL and DEFAULT clauses and a spread of column types.
One table, ``InvoiceLine``, is deliberately PascalCase (next to snake_case ``invoices``) so entity
resolution has something to do. ``orders.created_at`` is spread over 2024 for daily-partition backfills.

The data is fully determined by the seed. The file is written to a temporary file next to the target and
moved into place with ``os.replace``, so a half-written warehouse is never left behind.

    python examples/demo/generate_warehouse.py                 # -> examples/demo/warehouse.db
    python examples/demo/generate_warehouse.py out.db --seed 3 --force

Standard library only; importing this module has no side effects.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import random
import sqlite3
import tempfile
from collections.abc import Sequence
from datetime import date, datetime, timedelta

DEFAULT_PATH = pathlib.Path(__file__).resolve().parent / "warehouse.db"

SCHEMA = """
CREATE TABLE regions (
    region_id INTEGER PRIMARY KEY,
    code CHAR(4) NOT NULL UNIQUE,
    name VARCHAR(50) NOT NULL
);

CREATE TABLE countries (
    country_id INTEGER PRIMARY KEY,
    region_id INTEGER NOT NULL REFERENCES regions (region_id),
    iso_code CHAR(2) NOT NULL UNIQUE,
    name VARCHAR(80) NOT NULL,
    vat_rate NUMERIC(4,3) NOT NULL DEFAULT 0.2
);

CREATE TABLE customers (
    customer_id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    first_name VARCHAR(60) NOT NULL,
    last_name VARCHAR(60) NOT NULL,
    country_id INTEGER NOT NULL REFERENCES countries (country_id),
    birth_date DATE,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    loyalty_points INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE customer_addresses (
    address_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (customer_id),
    address_type VARCHAR(10) NOT NULL DEFAULT 'shipping',
    line1 VARCHAR(120) NOT NULL,
    city VARCHAR(80) NOT NULL,
    postal_code VARCHAR(16),
    country_id INTEGER NOT NULL REFERENCES countries (country_id),
    is_default BOOLEAN NOT NULL DEFAULT 0,
    UNIQUE (customer_id, address_type)
);

CREATE TABLE suppliers (
    supplier_id INTEGER PRIMARY KEY,
    name VARCHAR(120) NOT NULL UNIQUE,
    country_id INTEGER NOT NULL REFERENCES countries (country_id),
    contact_email VARCHAR(255),
    rating REAL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE product_categories (
    category_id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES product_categories (category_id),
    slug VARCHAR(80) NOT NULL UNIQUE,
    name VARCHAR(80) NOT NULL
);

CREATE TABLE products (
    product_id INTEGER PRIMARY KEY,
    sku VARCHAR(32) NOT NULL UNIQUE,
    name VARCHAR(120) NOT NULL,
    description TEXT,
    category_id INTEGER NOT NULL REFERENCES product_categories (category_id),
    supplier_id INTEGER NOT NULL REFERENCES suppliers (supplier_id),
    unit_price NUMERIC(10,2) NOT NULL,
    weight_kg REAL,
    is_discontinued BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE warehouses (
    warehouse_id INTEGER PRIMARY KEY,
    code VARCHAR(8) NOT NULL UNIQUE,
    name VARCHAR(80) NOT NULL,
    country_id INTEGER NOT NULL REFERENCES countries (country_id),
    opened_on DATE NOT NULL,
    capacity_m3 INTEGER
);

CREATE TABLE inventory (
    inventory_id INTEGER PRIMARY KEY,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (warehouse_id),
    product_id INTEGER NOT NULL REFERENCES products (product_id),
    quantity INTEGER NOT NULL DEFAULT 0,
    reorder_level INTEGER NOT NULL DEFAULT 10,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (customer_id),
    shipping_address_id INTEGER REFERENCES customer_addresses (address_id),
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    currency CHAR(3) NOT NULL DEFAULT 'EUR',
    notes TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE order_items (
    order_item_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (order_id),
    product_id INTEGER NOT NULL REFERENCES products (product_id),
    quantity INTEGER NOT NULL DEFAULT 1,
    unit_price NUMERIC(10,2) NOT NULL,
    discount NUMERIC(10,2) NOT NULL DEFAULT 0,
    UNIQUE (order_id, product_id)
);

CREATE TABLE payments (
    payment_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (order_id),
    method VARCHAR(20) NOT NULL,
    amount NUMERIC(10,2) NOT NULL,
    reference VARCHAR(40) NOT NULL UNIQUE,
    paid_at TIMESTAMP NOT NULL
);

CREATE TABLE shipments (
    shipment_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (order_id),
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (warehouse_id),
    carrier VARCHAR(30) NOT NULL,
    tracking_number VARCHAR(40) UNIQUE,
    shipped_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);

CREATE TABLE invoices (
    invoice_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL UNIQUE REFERENCES orders (order_id),
    invoice_number VARCHAR(20) NOT NULL UNIQUE,
    issued_on DATE NOT NULL,
    total NUMERIC(12,2) NOT NULL,
    is_paid BOOLEAN NOT NULL DEFAULT 0
);

CREATE TABLE "InvoiceLine" (
    "InvoiceLineId" INTEGER PRIMARY KEY,
    "InvoiceId" INTEGER NOT NULL REFERENCES invoices (invoice_id),
    "OrderItemId" INTEGER NOT NULL REFERENCES order_items (order_item_id),
    "Description" VARCHAR(200) NOT NULL,
    "Quantity" INTEGER NOT NULL,
    "LineAmount" NUMERIC(12,2) NOT NULL,
    "TaxRate" NUMERIC(4,3) NOT NULL DEFAULT 0.2
);

CREATE INDEX ix_countries_region ON countries (region_id);
CREATE INDEX ix_customers_country ON customers (country_id);
CREATE INDEX ix_customers_name ON customers (last_name, first_name);
CREATE INDEX ix_products_category ON products (category_id);
CREATE INDEX ix_products_supplier ON products (supplier_id);
CREATE UNIQUE INDEX ux_inventory_warehouse_product ON inventory (warehouse_id, product_id);
CREATE INDEX ix_orders_customer_created ON orders (customer_id, created_at);
CREATE INDEX ix_orders_created_at ON orders (created_at);
CREATE INDEX ix_order_items_product ON order_items (product_id);
CREATE INDEX ix_payments_order ON payments (order_id);
CREATE INDEX ix_shipments_order ON shipments (order_id);
CREATE INDEX "IX_InvoiceLine_InvoiceId" ON "InvoiceLine" ("InvoiceId");

CREATE VIEW order_totals AS
SELECT
    o.order_id,
    o.customer_id,
    date(o.created_at) AS order_date,
    o.status,
    COUNT(oi.order_item_id) AS item_count,
    ROUND(SUM(oi.quantity * oi.unit_price - oi.discount), 2) AS total
FROM orders AS o
JOIN order_items AS oi ON oi.order_id = o.order_id
GROUP BY o.order_id, o.customer_id, o.created_at, o.status;
"""

_REGIONS = [("EU", "Europe"), ("NA", "North America"), ("LATM", "Latin America"), ("APAC", "Asia Pacific")]
_COUNTRIES = [
    ("EU", "DE", "Germany", 0.19),
    ("EU", "FR", "France", 0.2),
    ("EU", "NL", "Netherlands", 0.21),
    ("EU", "ES", "Spain", 0.21),
    ("EU", "IT", "Italy", 0.22),
    ("EU", "PL", "Poland", 0.23),
    ("EU", "SE", "Sweden", 0.25),
    ("EU", "AT", "Austria", 0.2),
    ("NA", "US", "United States", 0.0),
    ("NA", "CA", "Canada", 0.05),
    ("LATM", "MX", "Mexico", 0.16),
    ("LATM", "BR", "Brazil", 0.17),
    ("LATM", "AR", "Argentina", 0.21),
    ("APAC", "JP", "Japan", 0.1),
    ("APAC", "AU", "Australia", 0.1),
    ("APAC", "SG", "Singapore", 0.09),
]
_FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dario", "Elif", "Farah", "Goran", "Hana", "Ivan", "Jonas", "Kira", "Luis",
    "Mei", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomoko", "Uma", "Viktor", "Wen", "Yara",
]  # fmt: skip
_LAST_NAMES = [
    "Almeida", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat", "Ito", "Jansen",
    "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Weber",
]  # fmt: skip
_CITIES = ["Berlin", "Lyon", "Utrecht", "Sevilla", "Torino", "Gdansk", "Malmo", "Graz", "Austin", "Toronto"]
_STREETS = ["Main St", "Harbour Rd", "Linden Allee", "Rue Verte", "Calle Mayor", "Park Lane", "Mill Way"]
_CATEGORIES = {
    "Home": ["Kitchen", "Garden", "Lighting"],
    "Outdoor": ["Camping", "Cycling", "Running"],
    "Electronics": ["Audio", "Cables", "Storage"],
}
_ADJECTIVES = ["Compact", "Classic", "Ultra", "Eco", "Pro", "Mini", "Rugged", "Smart", "Silent", "Travel"]
_NOUNS = ["Lamp", "Kettle", "Tent", "Bottle", "Speaker", "Cable", "Drive", "Pump", "Jacket", "Hub", "Mat"]
_STATUSES = ["delivered"] * 12 + ["shipped"] * 3 + ["paid"] * 2 + ["pending", "cancelled", "refunded"]
_PAYMENT_METHODS = ["card", "card", "card", "paypal", "bank_transfer", "gift_card"]
_CARRIERS = ["DHL", "UPS", "PostNL", "La Poste", "FedEx"]

N_CUSTOMERS = 300
N_SUPPLIERS = 24
N_PRODUCTS = 200
N_WAREHOUSES = 4
N_ORDERS = 2000
YEAR_START = datetime(2024, 1, 1)
YEAR_SECONDS = 366 * 24 * 3600  # 2024 is a leap year


Row = tuple[object, ...]


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _money(cents: int) -> float:
    return round(cents / 100, 2)


def _populate(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Insert all rows in dependency order; everything random comes from ``rng``."""
    conn.executemany("INSERT INTO regions VALUES (?, ?, ?)", [(i, c, n) for i, (c, n) in enumerate(_REGIONS, 1)])
    region_ids = {code: i for i, (code, _) in enumerate(_REGIONS, 1)}
    countries = [(i, region_ids[region], iso, name, vat) for i, (region, iso, name, vat) in enumerate(_COUNTRIES, 1)]
    conn.executemany("INSERT INTO countries VALUES (?, ?, ?, ?, ?)", countries)
    country_ids = [c[0] for c in countries]
    vat_by_country = {c[0]: c[4] for c in countries}

    # customers + addresses
    customers: list[Row] = []
    addresses: list[Row] = []
    address_by_customer: dict[int, list[int]] = {}
    customer_country: dict[int, int] = {}
    for cid in range(1, N_CUSTOMERS + 1):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        country = rng.choice(country_ids)
        customer_country[cid] = country
        created = datetime(2022, 1, 1) + timedelta(seconds=rng.randrange(2 * 365 * 24 * 3600))
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(50 * 365)) if rng.random() < 0.8 else None
        customers.append(
            (
                cid,
                f"{first.lower()}.{last.lower()}.{cid}@example.com",
                first,
                last,
                country,
                birth.isoformat() if birth else None,
                int(rng.random() < 0.93),
                rng.randrange(0, 5000, 5),
                _ts(created),
            )
        )
        kinds = ["shipping"] + (["billing"] if rng.random() < 0.5 else [])
        for kind in kinds:
            aid = len(addresses) + 1
            addresses.append(
                (
                    aid,
                    cid,
                    kind,
                    f"{rng.randint(1, 250)} {rng.choice(_STREETS)}",
                    rng.choice(_CITIES),
                    f"{rng.randint(1000, 99999):05d}" if rng.random() < 0.95 else None,
                    country if rng.random() < 0.9 else rng.choice(country_ids),
                    int(kind == "shipping"),
                )
            )
            if kind == "shipping":
                address_by_customer.setdefault(cid, []).append(aid)
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", customers)
    conn.executemany("INSERT INTO customer_addresses VALUES (?, ?, ?, ?, ?, ?, ?, ?)", addresses)

    suppliers = [
        (
            sid,
            f"{rng.choice(_LAST_NAMES)} {rng.choice(['Trading', 'Supply', 'Works', 'Goods'])} #{sid}",
            rng.choice(country_ids),
            f"sales{sid}@supplier.example" if rng.random() < 0.85 else None,
            round(rng.uniform(2.5, 5.0), 1) if rng.random() < 0.9 else None,
            _ts(datetime(2020, 1, 1) + timedelta(days=rng.randrange(1400))),
        )
        for sid in range(1, N_SUPPLIERS + 1)
    ]
    conn.executemany("INSERT INTO suppliers VALUES (?, ?, ?, ?, ?, ?)", suppliers)

    categories: list[tuple[int, int | None, str, str]] = []
    leaf_ids: list[int] = []
    for parent, children in _CATEGORIES.items():
        parent_id = len(categories) + 1
        categories.append((parent_id, None, parent.lower(), parent))
        for child in children:
            child_id = len(categories) + 1
            categories.append((child_id, parent_id, f"{parent.lower()}-{child.lower()}", child))
            leaf_ids.append(child_id)
    conn.executemany("INSERT INTO product_categories VALUES (?, ?, ?, ?)", categories)

    products: list[Row] = []
    price_cents: dict[int, int] = {}
    product_names: dict[int, str] = {}
    for pid in range(1, N_PRODUCTS + 1):
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.randint(100, 999)}"
        cents = rng.randrange(199, 49999)
        price_cents[pid] = cents
        product_names[pid] = name
        products.append(
            (
                pid,
                f"SKU-{pid:05d}",
                name,
                f"The {name.lower()}." if rng.random() < 0.7 else None,
                rng.choice(leaf_ids),
                rng.randint(1, N_SUPPLIERS),
                _money(cents),
                round(rng.uniform(0.05, 25.0), 3) if rng.random() < 0.9 else None,
                int(rng.random() < 0.05),
                _ts(datetime(2023, 1, 1) + timedelta(days=rng.randrange(365))),
            )
        )
    conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", products)

    warehouses = [
        (
            wid,
            f"WH{wid:02d}",
            f"{city} fulfilment",
            country_ids[(wid * 3) % len(country_ids)],
            (date(2018, 1, 1) + timedelta(days=rng.randrange(2000))).isoformat(),
            rng.choice([None, 5000, 12000, 30000]),
        )
        for wid, city in enumerate(rng.sample(_CITIES, N_WAREHOUSES), 1)
    ]
    conn.executemany("INSERT INTO warehouses VALUES (?, ?, ?, ?, ?, ?)", warehouses)

    inventory: list[Row] = []
    for wid in range(1, N_WAREHOUSES + 1):
        for pid in range(1, N_PRODUCTS + 1):
            if rng.random() < 0.7:
                updated = YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS))
                inventory.append(
                    (len(inventory) + 1, wid, pid, rng.randint(0, 500), rng.choice([5, 10, 20]), _ts(updated))
                )
    conn.executemany("INSERT INTO inventory VALUES (?, ?, ?, ?, ?, ?)", inventory)

    # orders and everything hanging off them
    created_times = sorted(YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS)) for _ in range(N_ORDERS))
    orders: list[Row] = []
    items: list[Row] = []
    payments: list[Row] = []
    shipments: list[Row] = []
    invoices: list[Row] = []
    lines: list[Row] = []
    for oid, created in enumerate(created_times, 1):
        cid = rng.randint(1, N_CUSTOMERS)
        status = rng.choice(_STATUSES)
        address = rng.choice(address_by_customer[cid]) if rng.random() < 0.97 else None
        notes = rng.choice(["gift wrap", "leave at door", "call before delivery"]) if rng.random() < 0.08 else None
        orders.append((oid, cid, address, status, "EUR" if rng.random() < 0.8 else "USD", notes, _ts(created)))

        order_items = []
        for pid in rng.sample(range(1, N_PRODUCTS + 1), rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5, 6])):
            qty = rng.choice([1, 1, 1, 2, 2, 3, 5])
            discount = min(rng.choice([0, 0, 0, 0, 100, 250, 500]), qty * price_cents[pid] // 10) if qty > 1 else 0
            order_items.append((len(items) + 1, oid, pid, qty, price_cents[pid], discount))
            items.append((len(items) + 1, oid, pid, qty, _money(price_cents[pid]), _money(discount)))
        total_cents = sum(qty * price - discount for _, _, _, qty, price, discount in order_items)

        if status in ("pending", "cancelled"):
            continue
        paid_at = created + timedelta(minutes=rng.randint(0, 90))
        method = rng.choice(_PAYMENT_METHODS)
        payments.append((len(payments) + 1, oid, method, _money(total_cents), f"PAY-{oid:06d}", _ts(paid_at)))
        if status == "refunded":
            payments.append((len(payments) + 1, oid, method, _money(-total_cents), f"REF-{oid:06d}", _ts(paid_at)))

        if status in ("shipped", "delivered", "refunded"):
            shipped = paid_at + timedelta(hours=rng.randint(4, 72))
            delivered = shipped + timedelta(hours=rng.randint(18, 120)) if status != "shipped" else None
            shipments.append(
                (
                    len(shipments) + 1,
                    oid,
                    rng.randint(1, N_WAREHOUSES),
                    rng.choice(_CARRIERS),
                    f"TRK{oid:06d}{rng.randint(100, 999)}" if rng.random() < 0.95 else None,
                    _ts(shipped),
                    _ts(delivered) if delivered else None,
                )
            )

        if rng.random() < 0.6:
            iid = len(invoices) + 1
            vat = vat_by_country[customer_country[cid]]
            invoices.append(
                (
                    iid,
                    oid,
                    f"INV-2024-{iid:05d}",
                    paid_at.date().isoformat(),
                    _money(total_cents),
                    int(status != "refunded"),
                )
            )
            for item_id, _, pid, qty, price, discount in order_items:
                lines.append(
                    (len(lines) + 1, iid, item_id, product_names[pid], qty, _money(qty * price - discount), vat)
                )

    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", orders)
    conn.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?, ?)", items)
    conn.executemany("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?)", payments)
    conn.executemany("INSERT INTO shipments VALUES (?, ?, ?, ?, ?, ?, ?)", shipments)
    conn.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?)", invoices)
    conn.executemany('INSERT INTO "InvoiceLine" VALUES (?, ?, ?, ?, ?, ?, ?)', lines)


def _build(path: pathlib.Path, seed: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN")
        for statement in _statements(SCHEMA):
            conn.execute(statement)
        _populate(conn, random.Random(seed))
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise RuntimeError(f"generated data violates foreign keys: {violations[:5]}")
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _statements(script: str) -> list[str]:
    """Split the schema script into complete statements (``sqlite3.complete_statement`` handles quoting)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:80]}")
    return statements


def generate_warehouse(path: pathlib.Path, *, seed: int = 7, overwrite: bool = False) -> pathlib.Path:
    """Write the sample warehouse to ``path`` and return ``path``.

    An existing file is left untouched (and its path returned) unless ``overwrite`` is true. The database is
    built in a temporary file in the same directory and moved over ``path`` atomically, so readers never see
    a half-written warehouse and a failed run leaves nothing behind.
    """
    path = pathlib.Path(path)
    if path.exists() and not overwrite:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = pathlib.Path(tmp_name)
    tmp.chmod(0o644)  # mkstemp creates 0600; the warehouse is ordinary demo data
    try:
        _build(tmp, seed)
        os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the demo SQLite sample warehouse.")
    parser.add_argument("path", nargs="?", type=pathlib.Path, default=DEFAULT_PATH, help=f"default: {DEFAULT_PATH}")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    existed = args.path.exists()
    path = generate_warehouse(args.path, seed=args.seed, overwrite=args.force)
    if existed and not args.force:
        print(f"{path} already exists; left untouched (use --force to regenerate)")
        return 0
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        rows = sum(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)
    print(f"wrote {path}: {len(tables)} tables, {rows} rows (seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
