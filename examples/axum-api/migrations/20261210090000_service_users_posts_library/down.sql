-- drop foreign key posts_user_id_fkey on public.posts
ALTER TABLE public.posts DROP CONSTRAINT posts_user_id_fkey;

-- drop foreign key book_authors_book_id_fkey on public.book_authors
ALTER TABLE public.book_authors DROP CONSTRAINT book_authors_book_id_fkey;

-- drop foreign key book_authors_author_id_fkey on public.book_authors
ALTER TABLE public.book_authors DROP CONSTRAINT book_authors_author_id_fkey;

-- drop table public.users
DROP TABLE public.users;

-- drop table public.posts
DROP TABLE public.posts;

-- drop table public.books
DROP TABLE public.books;

-- drop table public.book_authors
DROP TABLE public.book_authors;

-- drop table public.authors
DROP TABLE public.authors;
