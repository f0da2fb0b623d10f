"""监管数据中心: sources, ingestion, cleaning pipeline, entity resolution, the eight libraries, lineage."""
