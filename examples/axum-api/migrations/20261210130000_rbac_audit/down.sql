-- drop table public.rbac_audit
DROP TABLE public.rbac_audit;
