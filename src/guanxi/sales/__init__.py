"""Sales records around a customer: contracts and orders (the base the sales pipeline,
quotes, payments and invoices build on)."""
