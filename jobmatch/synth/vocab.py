"""Vocabulary of the synthetic corpus: areas, places, titles and phrase banks.

Plain constants kept apart from the generator in `synth.py`, so tests, rules and demos can
read everything the generator may say without running it. Method names are unique across
areas, so a mentioned method always points back to one area.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """A group of related areas; a person's areas mostly come from one family."""

    research: bool
    weight: float
    venues: tuple[str, ...]


@dataclass(frozen=True)
class Area:
    """One skill area: the ways people name it and the concrete methods that reveal it."""

    family: str
    name: str
    title: str
    synonyms: tuple[str, ...]
    methods: tuple[str, ...]
    weight: float = 1.0

    @property
    def mentions(self) -> tuple[str, ...]:
        """Every phrase that names the area itself rather than one of its methods."""
        return (self.name, *self.synonyms)


FAMILIES: dict[str, Family] = {
    "language": Family(True, 1.0, ("ACL", "EMNLP", "NAACL", "SIGIR", "Interspeech", "ICASSP")),
    "perception": Family(True, 0.9, ("CVPR", "ICCV", "ECCV", "ICRA", "IROS", "SIGGRAPH")),
    "ml_core": Family(True, 1.0, ("NeurIPS", "ICML", "ICLR", "AAAI", "KDD")),
    "life_sciences": Family(True, 0.75, ("ISMB", "RECOMB", "MICCAI", "the Bioinformatics journal")),
    "product": Family(False, 1.3, ("QCon", "JSConf", "Droidcon", "GDC", "Strange Loop")),
    "infrastructure": Family(False, 1.2, ("KubeCon", "DEF CON", "SREcon", "AWS re:Invent")),
    "data": Family(False, 1.3, ("VLDB", "SIGMOD", "PyData", "Data + AI Summit", "WSDM")),
    "hardware": Family(False, 0.8, ("Embedded World", "DAC", "Hot Chips", "Supercomputing")),
}

# fmt: off
AREAS: dict[str, Area] = {
    # language
    "nlp": Area(
        "language", "natural language processing", "NLP",
        ("NLP", "computational linguistics", "text mining", "language modeling"),
        ("named entity recognition", "dependency parsing", "spaCy", "Hugging Face Transformers",
         "LoRA fine-tuning", "BPE tokenization", "sentiment classification", "instruction tuning",
         "topic modeling"),
    ),
    "ir": Area(
        "language", "information retrieval", "Search",
        ("search and ranking", "IR", "search relevance", "retrieval systems"),
        ("BM25", "dense passage retrieval", "learning to rank", "FAISS", "Elasticsearch",
         "ColBERT", "query expansion", "HNSW indexes", "cross-encoder reranking"),
    ),
    "speech": Area(
        "language", "speech processing", "Speech",
        ("speech recognition", "ASR", "spoken language processing", "audio ML"),
        ("Kaldi", "wav2vec 2.0", "CTC loss", "Whisper fine-tuning", "speaker diarization",
         "text-to-speech", "MFCC features", "streaming audio decoders"),
    ),
    "mt": Area(
        "language", "machine translation", "Machine Translation",
        ("MT", "neural machine translation", "multilingual translation", "translation quality"),
        ("Marian NMT", "fairseq", "back-translation", "BLEU and COMET evaluation",
         "SentencePiece", "multilingual pretraining", "quality estimation",
         "terminology-constrained decoding"),
    ),
    "dialogue": Area(
        "language", "conversational AI", "Conversational AI",
        ("dialogue systems", "chatbots", "virtual assistants", "LLM agents"),
        ("Rasa", "retrieval-augmented generation", "intent classification", "slot filling",
         "dialogue state tracking", "LangChain", "prompt engineering", "function calling"),
    ),
    # perception
    "cv": Area(
        "perception", "computer vision", "Computer Vision",
        ("machine vision", "image understanding", "visual recognition", "visual perception"),
        ("OpenCV", "YOLO object detection", "semantic segmentation", "Vision Transformers",
         "ResNet image classification", "optical flow", "Detectron2", "3D reconstruction"),
    ),
    "robotics": Area(
        "perception", "robotics", "Robotics",
        ("robot learning", "autonomous robots", "manipulation and control", "robotic systems"),
        ("ROS 2", "SLAM", "motion planning", "MoveIt", "inverse kinematics",
         "model predictive control", "Gazebo simulation", "Kalman filter sensor fusion"),
    ),
    "autonomous_driving": Area(
        "perception", "autonomous driving", "Autonomy",
        ("self-driving cars", "ADAS", "autonomous vehicles", "driver assistance"),
        ("lidar point-cloud processing", "Apollo Auto", "CARLA simulator",
         "trajectory prediction", "HD maps", "BEV perception", "radar-camera fusion",
         "behaviour planning"),
    ),
    "graphics": Area(
        "perception", "computer graphics", "Graphics",
        ("rendering", "3D graphics", "real-time graphics", "visual computing"),
        ("Vulkan", "OpenGL", "ray tracing", "neural radiance fields", "physically based shading",
         "HLSL shaders", "mesh processing", "Gaussian splatting"),
    ),
    # ml_core
    "rl": Area(
        "ml_core", "reinforcement learning", "Reinforcement Learning",
        ("RL", "sequential decision making", "deep RL", "decision-making under uncertainty"),
        ("PPO", "Q-learning", "Soft Actor-Critic", "multi-armed bandits", "reward modeling",
         "Gymnasium environments", "model-based RL", "offline RL"),
    ),
    "generative": Area(
        "ml_core", "generative modeling", "Generative AI",
        ("generative AI", "diffusion models", "deep generative models", "foundation models"),
        ("denoising diffusion", "variational autoencoders", "GANs", "normalizing flows",
         "Stable Diffusion fine-tuning", "classifier-free guidance", "LLM pretraining",
         "DeepSpeed"),
    ),
    "ml_theory": Area(
        "ml_core", "machine learning theory", "ML Research",
        ("statistical learning theory", "theoretical ML", "learning theory",
         "optimization for machine learning"),
        ("PAC-Bayes bounds", "convex optimization", "stochastic gradient analysis",
         "kernel methods", "Gaussian processes", "Bayesian inference", "causal inference",
         "conformal prediction"),
    ),
    "mlops": Area(
        "ml_core", "MLOps", "MLOps",
        ("ML platform", "machine learning infrastructure", "model serving", "ML engineering"),
        ("MLflow", "Kubeflow", "feature stores", "Triton Inference Server", "model monitoring",
         "ONNX Runtime", "Weights & Biases", "Ray Serve"),
    ),
    "time_series": Area(
        "ml_core", "time series forecasting", "Forecasting",
        ("forecasting", "temporal modeling", "demand forecasting", "sequential data analysis"),
        ("ARIMA", "Prophet", "temporal fusion transformers", "anomaly detection",
         "state space models", "LightGBM", "change-point detection", "DeepAR"),
    ),
    # life_sciences
    "bioinformatics": Area(
        "life_sciences", "bioinformatics", "Bioinformatics",
        ("computational biology", "biological data analysis", "sequence analysis",
         "systems biology"),
        ("BLAST", "Nextflow", "Bioconductor", "protein structure prediction", "AlphaFold",
         "phylogenetics", "Snakemake", "multiple sequence alignment"),
    ),
    "genomics": Area(
        "life_sciences", "genomics", "Genomics",
        ("genome analysis", "NGS analysis", "population genetics", "functional genomics"),
        ("GATK variant calling", "single-cell RNA-seq", "Scanpy", "BWA alignment", "GWAS",
         "CRISPR screen analysis", "Seurat", "long-read sequencing"),
    ),
    "cheminformatics": Area(
        "life_sciences", "cheminformatics", "Cheminformatics",
        ("drug discovery", "computational chemistry", "molecular machine learning",
         "molecular modeling"),
        ("RDKit", "molecular docking", "molecular graph neural networks", "QSAR modeling",
         "GROMACS molecular dynamics", "virtual screening", "DFT calculations",
         "retrosynthesis planning"),
    ),
    "neuroscience": Area(
        "life_sciences", "computational neuroscience", "Neuroscience",
        ("neural data analysis", "neuroimaging", "brain-computer interfaces",
         "cognitive modeling"),
        ("spike sorting", "fMRI preprocessing", "EEG signal processing", "MNE-Python",
         "calcium imaging analysis", "neural decoding", "biophysical neuron models",
         "optogenetics data analysis"),
    ),
    "medical_imaging": Area(
        "life_sciences", "medical imaging", "Medical Imaging",
        ("radiology AI", "biomedical image analysis", "clinical imaging", "MRI and CT analysis"),
        ("U-Net segmentation", "MONAI", "DICOM pipelines", "3D Slicer", "nnU-Net",
         "CT reconstruction", "ITK", "histopathology slide analysis"),
    ),
    # product
    "backend": Area(
        "product", "backend development", "Backend",
        ("server-side engineering", "backend engineering", "API development", "web services"),
        ("Django", "Spring Boot", "gRPC", "REST API design", "Golang", "FastAPI", "Node.js",
         "Ruby on Rails"),
        weight=1.6,
    ),
    "frontend": Area(
        "product", "frontend development", "Frontend",
        ("front-end engineering", "web UI development", "client-side development",
         "UI engineering"),
        ("React", "TypeScript", "Vue.js", "Next.js", "CSS-in-JS", "WCAG accessibility",
         "Webpack", "Svelte"),
        weight=1.3,
    ),
    "mobile": Area(
        "product", "mobile development", "Mobile",
        ("iOS and Android development", "mobile apps", "app development", "mobile engineering"),
        ("Swift", "SwiftUI", "Kotlin", "Jetpack Compose", "Flutter", "Objective-C", "Core Data",
         "Firebase"),
    ),
    "gamedev": Area(
        "product", "game development", "Gameplay",
        ("games programming", "gameplay engineering", "interactive entertainment",
         "game engines"),
        ("Unreal Engine", "Unity", "engine programming in C++", "ECS architecture",
         "game physics", "netcode", "procedural generation", "Godot"),
        weight=0.6,
    ),
    "distributed_systems": Area(
        "product", "distributed systems", "Distributed Systems",
        ("large-scale systems", "scalable infrastructure", "distributed computing",
         "fault-tolerant systems"),
        ("Raft consensus", "Apache Kafka", "Akka", "consistent hashing", "CRDTs", "ZooKeeper",
         "event sourcing", "Erlang/OTP"),
    ),
    # infrastructure
    "devops": Area(
        "infrastructure", "DevOps", "DevOps",
        ("CI/CD", "build and release engineering", "infrastructure automation",
         "platform engineering"),
        ("Terraform", "Ansible", "Jenkins", "GitHub Actions", "Docker", "Helm charts", "ArgoCD",
         "Packer"),
        weight=1.4,
    ),
    "cloud": Area(
        "infrastructure", "cloud infrastructure", "Cloud",
        ("cloud engineering", "AWS/GCP/Azure", "cloud architecture", "cloud-native systems"),
        ("Kubernetes", "AWS Lambda", "Google Cloud Run", "Azure Functions", "Amazon EKS",
         "CloudFormation", "serverless architectures", "Istio service mesh"),
        weight=1.3,
    ),
    "sre": Area(
        "infrastructure", "site reliability engineering", "Site Reliability",
        ("SRE", "production reliability", "observability", "incident response"),
        ("Prometheus", "Grafana", "OpenTelemetry", "chaos engineering", "SLO design",
         "PagerDuty on-call", "capacity planning", "eBPF tracing"),
    ),
    "security": Area(
        "infrastructure", "security engineering", "Security",
        ("cybersecurity", "application security", "infosec", "threat detection"),
        ("penetration testing", "threat modeling", "Splunk SIEM", "OAuth 2.0", "fuzzing",
         "malware analysis", "zero-trust architecture", "SAST tooling"),
    ),
    "networking": Area(
        "infrastructure", "computer networking", "Network",
        ("network engineering", "SDN", "network protocols", "telecom networks"),
        ("BGP", "P4 programming", "DPDK", "Wireshark", "5G core", "TCP congestion control",
         "VXLAN", "Cisco IOS"),
        weight=0.7,
    ),
    # data
    "data_engineering": Area(
        "data", "data engineering", "Data",
        ("data pipelines", "ETL development", "big data engineering", "data platform"),
        ("Apache Spark", "Airflow", "dbt", "Apache Flink", "Snowflake", "Delta Lake",
         "Apache Beam", "BigQuery"),
        weight=1.4,
    ),
    "data_science": Area(
        "data", "data science", "Analytics",
        ("analytics", "applied statistics", "product analytics", "statistical modeling"),
        ("A/B testing", "pandas", "scikit-learn", "XGBoost", "uplift modeling", "Tableau",
         "survival analysis", "SQL window functions"),
        weight=1.4,
    ),
    "databases": Area(
        "data", "database systems", "Database",
        ("DBMS internals", "query processing", "storage engines", "data management systems"),
        ("PostgreSQL", "query optimization", "B-tree indexing", "MVCC", "RocksDB", "ClickHouse",
         "SQLite internals", "columnar storage"),
        weight=0.8,
    ),
    "recsys": Area(
        "data", "recommender systems", "Recommendations",
        ("recommendation engines", "personalization", "RecSys", "collaborative filtering"),
        ("matrix factorization", "two-tower models", "implicit feedback modeling",
         "session-based recommendation", "contextual bandits", "candidate generation", "DLRM",
         "LightFM"),
    ),
    # hardware
    "embedded": Area(
        "hardware", "embedded systems", "Embedded",
        ("firmware development", "embedded software", "microcontroller programming",
         "real-time systems"),
        ("embedded C", "FreeRTOS", "ARM Cortex-M", "Zephyr RTOS", "bare-metal drivers",
         "CAN bus", "Yocto Linux", "JTAG debugging"),
    ),
    "hardware": Area(
        "hardware", "hardware design", "Hardware",
        ("digital design", "ASIC design", "FPGA development", "chip design"),
        ("Verilog", "VHDL", "SystemVerilog UVM", "Vivado", "high-level synthesis",
         "timing closure", "RISC-V", "PCB layout"),
    ),
    "iot": Area(
        "hardware", "Internet of Things", "IoT",
        ("IoT", "connected devices", "edge computing", "sensor networks"),
        ("MQTT", "LoRaWAN", "Zigbee", "AWS IoT Core", "TensorFlow Lite", "Bluetooth Low Energy",
         "OTA firmware updates", "Node-RED"),
    ),
    "hpc": Area(
        "hardware", "high-performance computing", "HPC",
        ("HPC", "scientific computing", "parallel computing", "GPU computing"),
        ("CUDA", "MPI", "OpenMP", "Slurm", "Triton kernels", "SIMD vectorization", "NCCL",
         "Fortran"),
    ),
}

# (city, country, popularity weight): big hubs are drawn more often by jobs and candidates.
WEIGHTED_LOCATIONS: tuple[tuple[str, str, float], ...] = (
    ("San Francisco", "United States", 10.0), ("New York", "United States", 9.0),
    ("Seattle", "United States", 6.0), ("Boston", "United States", 5.0),
    ("Austin", "United States", 3.0), ("Los Angeles", "United States", 2.5),
    ("Chicago", "United States", 2.5), ("Washington D.C.", "United States", 1.5),
    ("San Diego", "United States", 1.5), ("Atlanta", "United States", 1.2),
    ("Pittsburgh", "United States", 1.0), ("Denver", "United States", 1.0),
    ("Raleigh", "United States", 0.8),
    ("London", "United Kingdom", 7.0), ("Cambridge", "United Kingdom", 1.5),
    ("Edinburgh", "United Kingdom", 1.0), ("Manchester", "United Kingdom", 1.0),
    ("Oxford", "United Kingdom", 0.8), ("Bristol", "United Kingdom", 0.8),
    ("Berlin", "Germany", 4.5), ("Munich", "Germany", 3.5), ("Hamburg", "Germany", 1.2),
    ("Frankfurt", "Germany", 1.0), ("Stuttgart", "Germany", 0.8), ("Cologne", "Germany", 0.6),
    ("Paris", "France", 4.0), ("Lyon", "France", 1.0), ("Grenoble", "France", 0.6),
    ("Toulouse", "France", 0.6), ("Bordeaux", "France", 0.5),
    ("Amsterdam", "Netherlands", 2.5), ("Eindhoven", "Netherlands", 0.8),
    ("Rotterdam", "Netherlands", 0.6), ("Delft", "Netherlands", 0.5),
    ("Zurich", "Switzerland", 2.5), ("Geneva", "Switzerland", 0.8),
    ("Lausanne", "Switzerland", 0.6), ("Basel", "Switzerland", 0.5),
    ("Toronto", "Canada", 3.5), ("Montreal", "Canada", 2.0), ("Vancouver", "Canada", 1.5),
    ("Waterloo", "Canada", 0.6), ("Ottawa", "Canada", 0.5),
    ("Bangalore", "India", 5.0), ("Hyderabad", "India", 2.0), ("Pune", "India", 1.2),
    ("Chennai", "India", 1.0), ("New Delhi", "India", 1.0),
    ("Beijing", "China", 3.0), ("Shanghai", "China", 2.5), ("Shenzhen", "China", 2.0),
    ("Hangzhou", "China", 1.2), ("Guangzhou", "China", 0.8),
    ("Tokyo", "Japan", 3.5), ("Osaka", "Japan", 1.0), ("Kyoto", "Japan", 0.6),
    ("Fukuoka", "Japan", 0.5),
    ("Seoul", "South Korea", 3.0), ("Daejeon", "South Korea", 0.6),
    ("Busan", "South Korea", 0.5),
    ("Singapore", "Singapore", 2.5),
    ("Madrid", "Spain", 1.5), ("Barcelona", "Spain", 1.5), ("Valencia", "Spain", 0.5),
)

LOCATIONS: list[tuple[str, str]] = [(city, country) for city, country, _ in WEIGHTED_LOCATIONS]
CITY_WEIGHTS: tuple[float, ...] = tuple(weight for _, _, weight in WEIGHTED_LOCATIONS)

# Short names people write instead of the full country name.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "United States": ("USA", "US"),
    "United Kingdom": ("UK",),
    "Netherlands": ("the Netherlands",),
    "South Korea": ("Korea",),
}

# Level 0..5 (intern .. principal). "{field}" is replaced by the area's title form, so level 3
# and nlp give e.g. "Senior NLP Engineer".
SENIORITY_TITLES: dict[int, tuple[str, ...]] = {
    0: (
        "{field} Intern",
        "Research Intern, {field}",
        "{field} Engineering Intern",
        "Student Researcher in {field}",
    ),
    1: (
        "Junior {field} Engineer",
        "Graduate {field} Developer",
        "Associate {field} Engineer",
        "Junior {field} Researcher",
    ),
    2: (
        "{field} Engineer",
        "{field} Developer",
        "{field} Engineer II",
        "Research Engineer, {field}",
    ),
    3: (
        "Senior {field} Engineer",
        "Senior Research Scientist, {field}",
        "Lead {field} Developer",
        "Senior {field} Developer",
    ),
    4: (
        "Staff {field} Engineer",
        "Tech Lead, {field}",
        "Staff Research Scientist, {field}",
        "Engineering Manager, {field}",
    ),
    5: (
        "Principal {field} Engineer",
        "Distinguished Engineer, {field}",
        "Head of {field}",
        "Principal Research Scientist, {field}",
    ),
}

# Years of experience drawn uniformly per level (ranges overlap, as they do in real life).
YEARS_BY_LEVEL: dict[int, tuple[float, float]] = {
    0: (0.0, 1.0),
    1: (1.0, 3.0),
    2: (2.5, 6.0),
    3: (5.0, 10.0),
    4: (8.0, 15.0),
    5: (12.0, 25.0),
}
# Minimum years a job at each level asks for.
JOB_MIN_YEARS: dict[int, int] = {0: 0, 1: 1, 2: 3, 3: 5, 4: 8, 5: 12}

# Hidden impact 0..3: what the person has visibly achieved, said only in the text. Research
# phrases are used only for people whose primary area belongs to a research family. Every
# phrase starts with a past-tense verb so "I " can be put in front of it.
IMPACT_PHRASES: dict[int, tuple[str, ...]] = {
    0: (
        "Built course projects and proof-of-concept demos in {area}.",
        "Worked mainly on internal prototypes that never reached production.",
        "Assisted colleagues with small {area} experiments.",
    ),
    1: (
        "Contributed features to a production {area} system.",
        "Shipped incremental improvements to an existing service built on {method}.",
        "Fixed bugs and wrote tests for a team using {method}.",
    ),
    2: (
        "Led the production deployment of {method} pipelines used by millions of users.",
        "Owned the {area} stack end to end, from design to on-call.",
        "Designed and launched a {area} service that now handles peak traffic.",
    ),
    3: (
        "Created and maintained a popular open-source library for {method} with 10k+ stars.",
        "Set the technical direction for {area} company-wide and drove launches to 50M+ users.",
        "Built the company's {area} platform from scratch and grew the team around it.",
    ),
}
RESEARCH_IMPACT_PHRASES: dict[int, tuple[str, ...]] = {
    0: ("Completed a master's thesis on {method} without publications yet.",),
    1: ("Co-authored a workshop paper on {method}.",),
    2: ("Published first-author papers at {venue}.",),
    3: ("Received a best paper award at {venue} for work on {method}.",),
}

# Sentences about a city the person does not live in now. Past-tense first word again.
PAST_CITY_PHRASES: tuple[str, ...] = (
    "Grew up in {city}.",
    "Studied in {city}, {country}.",
    "Spent {n} years working in {city} before moving.",
    "Completed a PhD in {city}.",
    "Moved away from {city} in {year}.",
    "Started out at a small startup in {city}.",
)

HOBBIES: tuple[str, ...] = (
    "bouldering",
    "trail running",
    "sourdough baking",
    "chess",
    "jazz piano",
    "birdwatching",
    "cycling",
    "amateur astronomy",
    "board games",
    "woodworking",
    "photography",
    "sailing",
    "marathon training",
    "volunteering at coding clubs",
    "learning Japanese",
    "home brewing",
    "gardening",
    "salsa dancing",
    "rock climbing",
    "writing short fiction",
)

WORK_STYLE: tuple[str, ...] = (
    "Enjoys mentoring and writing clear design docs.",
    "Cares about clean code, testing and honest code reviews.",
    "Comfortable working across product, research and infrastructure teams.",
    "Prefers small teams with a lot of ownership.",
    "Values reproducible experiments and careful evaluation.",
    "Likes turning vague problems into measurable goals.",
)

COMPANY_KINDS: tuple[str, ...] = (
    "a Series B fintech startup",
    "a large e-commerce company",
    "a university spin-off",
    "a healthcare scale-up",
    "a public research institute",
    "a logistics platform",
    "a gaming studio",
    "an industrial automation group",
    "a consumer social app",
    "a cloud software vendor",
    "an online travel company",
    "a climate-tech startup",
)

PERKS: tuple[str, ...] = (
    "We offer a learning budget and flexible hours.",
    "Equity, private health insurance and 30 days of paid leave are included.",
    "Visa sponsorship and relocation support are available.",
    "The team ships weekly and keeps meetings to a minimum.",
    "Four-day work weeks are being piloted across the company.",
    "Parental leave is generous and the hiring process has two interviews.",
)

DEGREES: tuple[str, ...] = (
    "an MSc in Computer Science", "a BSc in Mathematics", "a PhD in Physics",
    "an MEng in Electrical Engineering", "a BSc in Statistics", "a PhD in Computer Science",
    "an MSc in Applied Mathematics", "a BA in Linguistics", "an MSc in Mechanical Engineering",
    "a BSc in Biology",
)

SPOKEN_LANGUAGES: tuple[str, ...] = (
    "English", "German", "French", "Spanish", "Mandarin", "Hindi", "Japanese", "Korean",
    "Portuguese", "Polish", "Hebrew", "Swedish", "Dutch", "Italian",
)

JOB_DUTIES: tuple[str, ...] = (
    "You'll own features from design review to launch and join a light on-call rotation.",
    "Expect to split your time between prototyping, code review and mentoring.",
    "You'll turn product questions into experiments and ship the results.",
    "The role involves close work with product managers and a small research group.",
    "Day to day you'll write design docs, build services and measure their impact.",
    "You will help shape the roadmap and raise the bar on testing.",
)

TEAM_FACTS: tuple[str, ...] = (
    "The team has {n} engineers and ships to customers every week.",
    "We are a group of {n} people who value written communication.",
    "The team of {n} was formed last year and is growing.",
    "You'll join {n} engineers who care about quality and fast feedback.",
)
# fmt: on
