-- drop foreign key rbac_role_permissions_role_id_fkey on public.rbac_role_permissions
ALTER TABLE public.rbac_role_permissions DROP CONSTRAINT rbac_role_permissions_role_id_fkey;

-- drop foreign key rbac_role_permissions_permission_id_fkey on public.rbac_role_permissions
ALTER TABLE public.rbac_role_permissions DROP CONSTRAINT rbac_role_permissions_permission_id_fkey;

-- drop foreign key rbac_documents_owner_id_fkey on public.rbac_documents
ALTER TABLE public.rbac_documents DROP CONSTRAINT rbac_documents_owner_id_fkey;

-- drop foreign key rbac_accounts_role_id_fkey on public.rbac_accounts
ALTER TABLE public.rbac_accounts DROP CONSTRAINT rbac_accounts_role_id_fkey;

-- drop table public.rbac_roles
DROP TABLE public.rbac_roles;

-- drop table public.rbac_role_permissions
DROP TABLE public.rbac_role_permissions;

-- drop table public.rbac_permissions
DROP TABLE public.rbac_permissions;

-- drop table public.rbac_documents
DROP TABLE public.rbac_documents;

-- drop table public.rbac_accounts
DROP TABLE public.rbac_accounts;
