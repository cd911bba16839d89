-- drop foreign key blog_posts_author_id_fkey on public.blog_posts
ALTER TABLE public.blog_posts DROP CONSTRAINT blog_posts_author_id_fkey;

-- drop foreign key blog_post_tags_tag_id_fkey on public.blog_post_tags
ALTER TABLE public.blog_post_tags DROP CONSTRAINT blog_post_tags_tag_id_fkey;

-- drop foreign key blog_post_tags_post_id_fkey on public.blog_post_tags
ALTER TABLE public.blog_post_tags DROP CONSTRAINT blog_post_tags_post_id_fkey;

-- drop foreign key blog_comments_post_id_fkey on public.blog_comments
ALTER TABLE public.blog_comments DROP CONSTRAINT blog_comments_post_id_fkey;

-- drop foreign key blog_comments_author_id_fkey on public.blog_comments
ALTER TABLE public.blog_comments DROP CONSTRAINT blog_comments_author_id_fkey;

-- drop table public.blog_users
DROP TABLE public.blog_users;

-- drop table public.blog_tags
DROP TABLE public.blog_tags;

-- drop table public.blog_posts
DROP TABLE public.blog_posts;

-- drop table public.blog_post_tags
DROP TABLE public.blog_post_tags;

-- drop table public.blog_comments
DROP TABLE public.blog_comments;
