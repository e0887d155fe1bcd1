"""A page to see the service work: `/` in a browser, calling the same endpoints any client does."""
