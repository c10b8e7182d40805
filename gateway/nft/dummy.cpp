// Placeholder translation unit until the netlink engine lands.
