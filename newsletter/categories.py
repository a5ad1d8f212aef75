"""Readable names of arXiv categories (arxiv.org/category_taxonomy), for
labels such as "cs.LG — Machine Learning". An unknown term has no name."""

from __future__ import annotations

NAMES = {
    "cs": "Computer Science", "stat": "Statistics", "eess": "Electrical Engineering and Systems Science",
    "econ": "Economics", "math": "Mathematics", "physics": "Physics", "q-bio": "Quantitative Biology",
    "q-fin": "Quantitative Finance", "astro-ph": "Astrophysics", "cond-mat": "Condensed Matter",
    "quant-ph": "Quantum Physics", "hep-th": "High Energy Physics - Theory", "gr-qc": "General Relativity and Quantum Cosmology",
    "cs.AI": "Artificial Intelligence", "cs.AR": "Hardware Architecture", "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science", "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language", "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition", "cs.CY": "Computers and Society", "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing", "cs.DL": "Digital Libraries",
    "cs.DM": "Discrete Mathematics", "cs.DS": "Data Structures and Algorithms", "cs.ET": "Emerging Technologies",
    "cs.FL": "Formal Languages and Automata Theory", "cs.GL": "General Literature", "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory", "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval", "cs.IT": "Information Theory", "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science", "cs.MA": "Multiagent Systems", "cs.MM": "Multimedia",
    "cs.MS": "Mathematical Software", "cs.NA": "Numerical Analysis", "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture", "cs.OH": "Other Computer Science",
    "cs.OS": "Operating Systems", "cs.PF": "Performance", "cs.PL": "Programming Languages", "cs.RO": "Robotics",
    "cs.SC": "Symbolic Computation", "cs.SD": "Sound", "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks", "cs.SY": "Systems and Control",
    "stat.AP": "Applications", "stat.CO": "Computation", "stat.ME": "Methodology", "stat.ML": "Machine Learning",
    "stat.OT": "Other Statistics", "stat.TH": "Statistics Theory",
    "eess.AS": "Audio and Speech Processing", "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing", "eess.SY": "Systems and Control",
    "econ.EM": "Econometrics", "econ.GN": "General Economics", "econ.TH": "Theoretical Economics",
    "math.OC": "Optimization and Control", "math.ST": "Statistics Theory", "math.NA": "Numerical Analysis",
    "math.PR": "Probability", "math.IT": "Information Theory", "physics.comp-ph": "Computational Physics",
    "physics.data-an": "Data Analysis, Statistics and Probability", "q-bio.NC": "Neurons and Cognition",
    "q-bio.QM": "Quantitative Methods", "cond-mat.dis-nn": "Disordered Systems and Neural Networks",
}


def name(term: str) -> str:
    return NAMES.get(term, "")


def label(term: str) -> str:
    """'cs.LG — Machine Learning', or the term alone."""
    n = name(term)
    return f"{term} — {n}" if n else term
