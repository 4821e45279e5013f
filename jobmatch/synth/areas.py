"""Skill areas of the synthetic corpus, grouped in families, with the words that reveal them.

Method names are unique across areas, so a mentioned method always points back to one area.
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
# fmt: on
