-- Idempotent: runs on every push against a database that may already hold the previous seed.
CREATE TABLE IF NOT EXISTS products (
  id    integer PRIMARY KEY,
  name  text    NOT NULL,
  cents integer NOT NULL
);
INSERT INTO products (id, name, cents) VALUES
  (1, 'Kettle', 2900),
  (2, 'Teapot', 3400),
  (3, 'Mug', 900)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, cents = EXCLUDED.cents;
