"""Reports on a sweep: intervals, paired comparisons, answers to its questions, figures and documents."""
