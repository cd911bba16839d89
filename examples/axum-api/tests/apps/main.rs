//! The applications, tested against a real PostgreSQL (`DATABASE_URL` or a throwaway local
//! cluster): one test binary, one module per story. The service's tests start it on
//! 127.0.0.1, on a free port, and speak HTTP to it.

mod api_errors;
mod api_library;
mod api_users;
mod blog;
mod rbac;
mod schema;
mod stocks;
mod support;
