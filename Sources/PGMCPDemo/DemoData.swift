/// The demo's sample schema — customers, products, orders, order_items, with foreign keys,
/// checks, comments and a view — and rows that differ per database, so that a client can see
/// which database it is talking to.
struct DemoData {
    var customers: Int
    var products: Int
    var orders: Int
    var emailDomain: String

    static let development = DemoData(customers: 25, products: 12, orders: 80, emailDomain: "dev.example")
    static let staging = DemoData(customers: 60, products: 15, orders: 240, emailDomain: "staging.example")

    static let schema = [
        """
        CREATE TABLE customers (
            id serial PRIMARY KEY,
            name text NOT NULL,
            email text NOT NULL UNIQUE,
            country text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now())
        """,
        "COMMENT ON TABLE customers IS 'People and companies who place orders'",
        "COMMENT ON COLUMN customers.country IS 'ISO 3166-1 alpha-2 code'",
        """
        CREATE TABLE products (
            id serial PRIMARY KEY,
            sku text NOT NULL UNIQUE,
            name text NOT NULL,
            price numeric(10,2) NOT NULL CHECK (price >= 0),
            in_stock integer NOT NULL DEFAULT 0)
        """,
        "COMMENT ON TABLE products IS 'The catalogue'",
        """
        CREATE TABLE orders (
            id serial PRIMARY KEY,
            customer_id integer NOT NULL REFERENCES customers (id),
            status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
            ordered_at timestamptz NOT NULL)
        """,
        "CREATE INDEX orders_customer_id_idx ON orders (customer_id)",
        "COMMENT ON TABLE orders IS 'One row per order; its lines are in order_items'",
        """
        CREATE TABLE order_items (
            order_id integer NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
            product_id integer NOT NULL REFERENCES products (id),
            quantity integer NOT NULL CHECK (quantity > 0),
            unit_price numeric(10,2) NOT NULL,
            PRIMARY KEY (order_id, product_id))
        """,
        "COMMENT ON COLUMN order_items.unit_price IS 'Price when ordered; products.price may have changed since'",
        """
        CREATE VIEW order_totals AS
        SELECT o.id AS order_id, c.name AS customer, o.status, o.ordered_at, sum(i.quantity * i.unit_price) AS total
        FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_items i ON i.order_id = o.id
        GROUP BY o.id, c.name
        """,
        "COMMENT ON VIEW order_totals IS 'Each order with its customer and total'",
    ]

    var rows: [String] {
        [
            """
            INSERT INTO customers (name, email, country, created_at)
            SELECT (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Margaret','Ken','Frances','John'])[1 + g % 10]
                   || ' ' || (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Hamilton','Thompson','Allen','Backus'])[1 + (g * 7) % 10],
                   'customer' || g || '@\(emailDomain)',
                   (ARRAY['NZ','DE','FR','US','JP','BR'])[1 + g % 6],
                   now() - (g || ' days')::interval
            FROM generate_series(1, \(customers)) g
            """,
            """
            INSERT INTO products (sku, name, price, in_stock)
            SELECT * FROM (VALUES
                ('KB-01', 'Mechanical keyboard', 129.00, 40), ('MS-02', 'Wireless mouse', 39.90, 120),
                ('MN-03', '27" monitor', 349.00, 15), ('HD-04', 'USB-C hub', 59.00, 80), ('CM-05', 'Webcam', 89.50, 33),
                ('HS-06', 'Headset', 149.00, 27), ('DK-07', 'Standing desk', 599.00, 6), ('CH-08', 'Office chair', 449.00, 9),
                ('LP-09', 'Laptop stand', 45.00, 64), ('CB-10', 'Cable kit', 19.99, 210), ('SS-11', 'Portable SSD 1 TB', 119.00, 51),
                ('MC-12', 'Microphone', 179.00, 12), ('LT-13', 'Desk lamp', 64.00, 22), ('PD-14', 'Mouse pad', 14.50, 300),
                ('DS-15', 'Docking station', 239.00, 18)
            ) AS v (sku, name, price, in_stock)
            LIMIT \(products)
            """,
            """
            INSERT INTO orders (customer_id, status, ordered_at)
            SELECT 1 + (g * 13) % \(customers), (ARRAY['new','paid','paid','shipped','shipped','cancelled'])[1 + g % 6],
                   now() - ((g * 3) || ' hours')::interval
            FROM generate_series(1, \(orders)) g
            """,
            """
            INSERT INTO order_items (order_id, product_id, quantity, unit_price)
            SELECT o.id, p.id, 1 + (o.id + k) % 4, p.price
            FROM orders o CROSS JOIN LATERAL generate_series(1, 1 + o.id % 3) k
            JOIN products p ON p.id = 1 + (o.id * k * 7) % \(products)
            ON CONFLICT DO NOTHING
            """,
            "ANALYZE",
        ]
    }
}
