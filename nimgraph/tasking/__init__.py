"""The partnership's working loop, written into the graph: priorities, tasking meetings, taskings,
problems and projects, activities, outcomes and reviews, each change a record with its author."""
