-- drop table public.stock_prices
DROP TABLE public.stock_prices;
